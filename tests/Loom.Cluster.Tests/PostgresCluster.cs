using Loom.Cluster.Tests.Support;

namespace Loom.Cluster.Tests;

/// <summary>
/// A PostgreSQL of its own with Loom's cluster tables, and three `loom silo` processes on it. When PostgreSQL is
/// not installed the tests that use it are skipped, saying so.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    private readonly List<SiloProcess> _silos = [];
    private int _next;
    public PostgresInstance? Db { get; private set; }
    public string? SkipReason { get; private set; }
    public string ConnectionString => Db!.ConnectionString;
    public IReadOnlyList<SiloProcess> Silos => _silos;

    public async ValueTask InitializeAsync()
    {
        if (PostgresInstance.FindBin() is null)
        {
            SkipReason = "PostgreSQL is not installed (no initdb/pg_ctl via $LOOM_PG_BIN, pg_config, /usr/local/bin or PATH)";
            return;
        }
        Db = PostgresInstance.Start();
        var (exit, _, err) = Loom.Tests.Support.CliRunner.Run("cluster-init", "--cluster-db", ConnectionString);
        if (exit != 0) throw new InvalidOperationException("cluster-init failed: " + err);
        await EnsureSilos(3);
    }

    /// <summary>Starts silos until <paramref name="count"/> are alive (replacing killed ones).</summary>
    public async Task EnsureSilos(int count)
    {
        foreach (var dead in _silos.Where(s => s.HasExited).ToList()) { dead.Dispose(); _silos.Remove(dead); }
        var started = new List<SiloProcess>();
        while (_silos.Count < count)
        {
            var s = SiloProcess.Start(ConnectionString, $"silo-{++_next}", PostgresInstance.FreePort(), PostgresInstance.FreePort());
            _silos.Add(s);
            started.Add(s);
        }
        foreach (var s in started) await s.WaitUp();
    }

    public const int FlightRows = 200_000;
    private readonly Loom.Tests.Support.TempDir _data = new();
    private Task<(string Data, string Model, string Single)>? _flights;

    /// <summary>The flights slice, its model and the single-machine predictions (the oracle), made once for all tests.</summary>
    public Task<(string Data, string Model, string Single)> Flights() => _flights ??= Task.Run(async () =>
    {
        var (data, model) = await FlightsData.Prepare(_data, FlightRows, rowsPerGroup: 10_000, trees: 100);
        string single = _data.File("single.parquet");
        var (exit, _, err) = Loom.Tests.Support.CliRunner.Run("score", model, data, "--out", single, "--map", "Column_0=distance", "--no-progress");
        if (exit != 0) throw new InvalidOperationException("single-machine loom score failed: " + err);
        return (data, model, single);
    });

    public void RequirePostgres()
    {
        if (SkipReason is not null) Assert.Skip(SkipReason);
    }

    public ValueTask DisposeAsync()
    {
        foreach (var s in _silos) s.Dispose();
        Db?.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }
}
