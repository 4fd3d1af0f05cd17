using System.Diagnostics;

namespace Loom.Cluster.Tests.Support;

/// <summary>A `loom` client process whose stdout and stderr lines are collected as they come (progress lines carry the job id).</summary>
public sealed class ClientProcess : IDisposable
{
    private readonly Process _p;
    private readonly List<string> _err = [], _out = [];

    public ClientProcess(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Loom.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "200";
        _p = Process.Start(psi)!;
        _p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.Add(e.Data); };
        _p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.Add(e.Data); };
        _p.BeginErrorReadLine();
        _p.BeginOutputReadLine();
    }

    public string Err { get { lock (_err) return string.Join('\n', _err); } }
    public string Out { get { lock (_out) return string.Join('\n', _out); } }
    public bool HasExited => _p.HasExited;

    public int Wait(TimeSpan timeout)
    {
        if (!_p.WaitForExit(timeout)) { Kill(); throw new TimeoutException($"loom did not finish in {timeout}:\n{Err}"); }
        _p.WaitForExit();
        return _p.ExitCode;
    }

    public void Kill()
    {
        if (!_p.HasExited) _p.Kill(entireProcessTree: true);
        _p.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        _p.Dispose();
    }
}
