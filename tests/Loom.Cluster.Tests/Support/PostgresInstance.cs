using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Loom.Cluster.Tests.Support;

/// <summary>
/// A PostgreSQL server of the test's own: initdb into a temporary folder, started on a free port on
/// 127.0.0.1 (trust authentication, user <c>loom</c>, database <c>loom</c>), stopped and removed on dispose.
/// PostgreSQL refuses to run as root, so under root the server runs as <c>nobody</c> (via setpriv).
/// </summary>
public sealed class PostgresInstance : IDisposable
{
    private readonly string _bin, _dir;
    private readonly bool _asNobody;
    private bool _started;

    private PostgresInstance(string bin, string dir, bool asNobody) => (_bin, _dir, _asNobody) = (bin, dir, asNobody);

    public int Port { get; private set; }
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Database=loom;Username=loom;Pooling=true;Timeout=10";

    /// <summary>Where initdb and pg_ctl are: $LOOM_PG_BIN, pg_config --bindir, /usr/local/bin, or PATH; null when PostgreSQL is absent.</summary>
    public static string? FindBin()
    {
        var candidates = new List<string?> { Environment.GetEnvironmentVariable("LOOM_PG_BIN") };
        try
        {
            var psi = new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            candidates.Add(p.StandardOutput.ReadToEnd().Trim());
            p.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception) { /* no pg_config */ }
        candidates.Add("/usr/local/bin");
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'));
        return candidates.FirstOrDefault(d => !string.IsNullOrEmpty(d) && File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    public static PostgresInstance Start()
    {
        string bin = FindBin() ?? throw new InvalidOperationException("PostgreSQL (initdb, pg_ctl) not found");
        string dir = Path.Combine(Path.GetTempPath(), "loom-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        bool root = Environment.UserName == "root";
        var pg = new PostgresInstance(bin, dir, root);
        try
        {
            if (root) Run("chown", "-R", "65534:65534", dir);
            pg.RunPg("initdb", "-D", Path.Combine(dir, "data"), "-U", "loom", "--auth=trust", "-E", "UTF8", "--no-sync");
            pg.Port = FreePort();
            pg.RunPg("pg_ctl", "-D", Path.Combine(dir, "data"), "-l", Path.Combine(dir, "log"), "-w", "-t", "60", "start",
                "-o", $"-p {pg.Port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200");
            pg._started = true;
            Run("psql", "-h", "127.0.0.1", "-p", pg.Port.ToString(), "-U", "loom", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE loom");
            return pg;
        }
        catch
        {
            pg.Dispose();
            throw;
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private void RunPg(string tool, params string[] args)
    {
        string exe = Path.Combine(_bin, tool);
        if (_asNobody) Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", exe, .. args]);
        else Run(exe, args);
    }

    private static void Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"{exe} did not finish"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {string.Join(' ', args)} exited {p.ExitCode}: {err.Result}{output.Result}");
    }

    public void Dispose()
    {
        if (_started)
        {
            try { RunPg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"); }
            catch (Exception) { /* already gone */ }
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
