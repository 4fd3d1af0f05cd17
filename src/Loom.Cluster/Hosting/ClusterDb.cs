using System.Net.Sockets;
using Loom.Cluster.Postgres;
using Npgsql;
using Orleans.Runtime;

namespace Loom.Cluster.Hosting;

/// <summary>
/// The cluster's PostgreSQL database: checks a connection string before Orleans sees it (so a typo or a
/// database that is down is one clear error naming the setting, host and port, not a retry loop), and
/// creates Loom's own membership and grain-state tables (<see cref="ClusterSchema"/>).
/// </summary>
public static class ClusterDb
{
    /// <summary>Parses <paramref name="connectionString"/>, naming <paramref name="setting"/> when it is malformed.</summary>
    public static NpgsqlConnectionStringBuilder Parse(string connectionString, string setting)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrEmpty(b.Host)) throw new ClusterConfigException($"{setting}: the connection string names no Host (e.g. 'Host=db;Port=5432;Database=loom;Username=loom;Password=...')");
            return b;
        }
        catch (ArgumentException e) { throw new ClusterConfigException($"{setting}: not a PostgreSQL connection string: {e.Message}", e); }
    }

    /// <summary>Opens a connection (5 s timeout unless the string sets one) and checks Loom's cluster tables are there.</summary>
    public static async Task CheckAsync(string connectionString, string setting, bool requireSchema = true)
    {
        var b = Parse(connectionString, setting);
        await using var conn = await OpenAsync(b, setting);
        if (!requireSchema) return;
        await using var cmd = new NpgsqlCommand($"SELECT to_regclass('{ClusterSchema.VersionTable}') IS NOT NULL AND to_regclass('{ClusterSchema.SiloTable}') IS NOT NULL AND to_regclass('{ClusterSchema.StateTable}') IS NOT NULL", conn);
        if (await cmd.ExecuteScalarAsync() is not true)
            throw new ClusterConfigException($"{setting}: database '{b.Database}' on {b.Host}:{b.Port} has no Loom cluster tables; create them with `loom cluster-init --cluster-db ...`");
    }

    /// <summary>Active silos in the membership table, for a clear error when there are none.</summary>
    public static async Task<int> ActiveSilosAsync(string connectionString, string setting)
    {
        var b = Parse(connectionString, setting);
        await using var conn = await OpenAsync(b, setting);
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {ClusterSchema.SiloTable} WHERE cluster_id = @c AND status = @active", conn);
        cmd.Parameters.AddWithValue("c", ClusterNames.ClusterId);
        cmd.Parameters.AddWithValue("active", (int)SiloStatus.Active);
        return Convert.ToInt32(await cmd.ExecuteScalarAsync());
    }

    /// <summary>Creates Loom's cluster tables (<see cref="ClusterSchema.Create"/>; each only if absent).</summary>
    public static async Task InitAsync(string connectionString, string setting)
    {
        var b = Parse(connectionString, setting);
        await using var conn = await OpenAsync(b, setting);
        await using var cmd = new NpgsqlCommand(ClusterSchema.Create, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<NpgsqlConnection> OpenAsync(NpgsqlConnectionStringBuilder b, string setting)
    {
        if (b.Timeout == 15) b.Timeout = 5; // Npgsql's default; a cluster command should not hang 15 s on a dead database.
        var conn = new NpgsqlConnection(b.ConnectionString);
        try
        {
            await conn.OpenAsync();
            return conn;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            await conn.DisposeAsync();
            string why = e is PostgresException pg ? $"{pg.SqlState} {pg.MessageText}" : e.InnerException?.Message ?? e.Message;
            throw new ClusterUnavailableException($"{setting}: cannot reach PostgreSQL database '{b.Database}' at {b.Host}:{b.Port} as '{b.Username}': {why}", e);
        }
    }
}
