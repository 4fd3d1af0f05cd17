using System.Diagnostics;

namespace Loom.Tests.Support;

/// <summary>Runs the <c>loom</c> command as its own process, the way a user runs it.</summary>
public static class CliRunner
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "Loom.Cli.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "200";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "loom did not finish in 2 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
