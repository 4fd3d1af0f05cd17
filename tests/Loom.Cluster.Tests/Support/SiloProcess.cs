using System.Diagnostics;

namespace Loom.Cluster.Tests.Support;

/// <summary>A `loom silo` process; killed (SIGKILL, whole tree) on dispose so no silo outlives its test.</summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process _p;
    private readonly List<string> _log = [];

    private SiloProcess(Process p, string name) => (_p, Name) = (p, name);

    public string Name { get; }

    /// <summary>The `loom` entry assembly: beside the tests; the bench points it at src/Loom.Cli's build output.</summary>
    public static string CliPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "Loom.Cli.dll");
    public bool HasExited => _p.HasExited;
    public string Log { get { lock (_log) return string.Join('\n', _log); } }

    public static SiloProcess Start(string clusterDb, string name, int port, int gateway)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CliPath, "silo", "--cluster-db", clusterDb, "--port", port.ToString(),
                     "--gateway", gateway.ToString(), "--advertise", "127.0.0.1", "--name", name })
            psi.ArgumentList.Add(a);
        var silo = new SiloProcess(Process.Start(psi)!, name);
        var up = new TaskCompletionSource();
        silo._p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (silo._log) silo._log.Add(e.Data);
            if (e.Data.StartsWith("silo ", StringComparison.Ordinal) && e.Data.Contains(" up at ")) up.TrySetResult();
        };
        silo._p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (silo._log) silo._log.Add(e.Data); };
        silo._p.BeginOutputReadLine();
        silo._p.BeginErrorReadLine();
        silo._up = up.Task;
        return silo;
    }

    private Task _up = Task.CompletedTask;

    public async Task WaitUp()
    {
        var done = await Task.WhenAny(_up, Task.Delay(TimeSpan.FromSeconds(90)));
        if (done != _up || _p.HasExited) throw new InvalidOperationException($"silo {Name} did not come up:\n{Log}");
    }

    /// <summary>SIGKILL: no shutdown, no goodbye to the cluster — what losing a machine looks like.</summary>
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
