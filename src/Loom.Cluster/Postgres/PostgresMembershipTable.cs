using System.Globalization;
using System.Net;
using Npgsql;
using Orleans.Messaging;
using Orleans.Runtime;

namespace Loom.Cluster.Postgres;

/// <summary>
/// Orleans membership on Loom's own PostgreSQL tables (<see cref="ClusterSchema"/>). Each silo row carries an
/// integer etag and the cluster's version row an integer version; a conditional write bumps both in one
/// transaction and fails (returns false) when either has moved since it was read.
/// </summary>
public sealed class PostgresMembershipTable(string connectionString, string clusterId) : IMembershipTable
{
    private const string Columns = "s.silo, s.silo_name, s.host_name, s.status, s.proxy_port, s.update_zone, s.fault_zone, s.suspect_times, s.start_time, s.i_am_alive, s.etag";

    public async Task InitializeMembershipTable(bool tryInitTableVersion)
    {
        if (!tryInitTableVersion) return;
        await using var conn = await OpenAsync(connectionString);
        await using var cmd = new NpgsqlCommand($"INSERT INTO {ClusterSchema.VersionTable} (cluster_id, version) VALUES (@c, 0) ON CONFLICT (cluster_id) DO NOTHING", conn);
        cmd.Parameters.AddWithValue("c", clusterId);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task DeleteMembershipTableEntries(string clusterId)
    {
        await using var conn = await OpenAsync(connectionString);
        await using var cmd = new NpgsqlCommand($"DELETE FROM {ClusterSchema.VersionTable} WHERE cluster_id = @c", conn); // silo rows cascade
        cmd.Parameters.AddWithValue("c", clusterId);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate)
    {
        await using var conn = await OpenAsync(connectionString);
        await using var cmd = new NpgsqlCommand($"DELETE FROM {ClusterSchema.SiloTable} WHERE cluster_id = @c AND status = @dead AND i_am_alive < @before", conn);
        cmd.Parameters.AddWithValue("c", clusterId);
        cmd.Parameters.AddWithValue("dead", (int)SiloStatus.Dead);
        cmd.Parameters.AddWithValue("before", beforeDate.UtcDateTime);
        await cmd.ExecuteNonQueryAsync();
    }

    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadAsync(key);

    public Task<MembershipTableData> ReadAll() => ReadAsync(null);

    /// <summary>The version row and the silo rows in one statement, so they are one snapshot.</summary>
    private async Task<MembershipTableData> ReadAsync(SiloAddress? key)
    {
        await using var conn = await OpenAsync(connectionString);
        string only = key is null ? "" : " AND s.silo = @silo";
        await using var cmd = new NpgsqlCommand(
            $"SELECT v.version, {Columns} FROM {ClusterSchema.VersionTable} v LEFT JOIN {ClusterSchema.SiloTable} s ON s.cluster_id = v.cluster_id{only} WHERE v.cluster_id = @c", conn);
        cmd.Parameters.AddWithValue("c", clusterId);
        if (key is not null) cmd.Parameters.AddWithValue("silo", key.ToParsableString());
        var rows = new List<Tuple<MembershipEntry, string>>();
        int version = 0;
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync())
            {
                version = r.GetInt32(0);
                if (r.IsDBNull(1)) continue;
                var e = new MembershipEntry
                {
                    SiloAddress = SiloAddress.FromParsableString(r.GetString(1)),
                    SiloName = r.GetString(2),
                    HostName = r.GetString(3),
                    Status = (SiloStatus)r.GetInt32(4),
                    ProxyPort = r.GetInt32(5),
                    UpdateZone = r.GetInt32(6),
                    FaultZone = r.GetInt32(7),
                    SuspectTimes = ParseSuspects(r.GetString(8)),
                    StartTime = r.GetDateTime(9),
                    IAmAliveTime = r.GetDateTime(10),
                };
                rows.Add(Tuple.Create(e, r.GetInt32(11).ToString(CultureInfo.InvariantCulture)));
            }
        return new MembershipTableData(rows, new TableVersion(version, version.ToString(CultureInfo.InvariantCulture)));
    }

    public async Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion)
    {
        await using var conn = await OpenAsync(connectionString);
        await using var tx = await conn.BeginTransactionAsync();
        if (!await BumpVersionAsync(conn, tx, tableVersion)) return false;
        await using var cmd = new NpgsqlCommand(
            $"""
            INSERT INTO {ClusterSchema.SiloTable} (cluster_id, silo, silo_name, host_name, status, proxy_port, update_zone, fault_zone, suspect_times, start_time, i_am_alive, etag)
            VALUES (@c, @silo, @name, @host, @status, @proxy, @uz, @fz, @suspects, @start, @alive, 0)
            ON CONFLICT (cluster_id, silo) DO NOTHING
            """, conn, tx);
        AddEntry(cmd, entry);
        if (await cmd.ExecuteNonQueryAsync() != 1) return false;
        await tx.CommitAsync();
        return true;
    }

    public async Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion)
    {
        if (!int.TryParse(etag, NumberStyles.Integer, CultureInfo.InvariantCulture, out int expected)) return false;
        await using var conn = await OpenAsync(connectionString);
        await using var tx = await conn.BeginTransactionAsync();
        if (!await BumpVersionAsync(conn, tx, tableVersion)) return false;
        await using var cmd = new NpgsqlCommand(
            $"""
            UPDATE {ClusterSchema.SiloTable} SET silo_name = @name, host_name = @host, status = @status, proxy_port = @proxy, update_zone = @uz,
                fault_zone = @fz, suspect_times = @suspects, start_time = @start, i_am_alive = @alive, etag = etag + 1
            WHERE cluster_id = @c AND silo = @silo AND etag = @etag
            """, conn, tx);
        AddEntry(cmd, entry);
        cmd.Parameters.AddWithValue("etag", expected);
        if (await cmd.ExecuteNonQueryAsync() != 1) return false;
        await tx.CommitAsync();
        return true;
    }

    public async Task UpdateIAmAlive(MembershipEntry entry)
    {
        await using var conn = await OpenAsync(connectionString);
        await using var cmd = new NpgsqlCommand($"UPDATE {ClusterSchema.SiloTable} SET i_am_alive = @alive WHERE cluster_id = @c AND silo = @silo", conn);
        cmd.Parameters.AddWithValue("c", clusterId);
        cmd.Parameters.AddWithValue("silo", entry.SiloAddress.ToParsableString());
        cmd.Parameters.AddWithValue("alive", Utc(entry.IAmAliveTime));
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Moves the cluster's version to <paramref name="next"/> if it still is the one the caller read (the
    /// etag, which is the version as read). A concurrent writer blocks on the row lock and then finds it moved.
    /// </summary>
    private async Task<bool> BumpVersionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, TableVersion next)
    {
        if (!int.TryParse(next.VersionEtag, NumberStyles.Integer, CultureInfo.InvariantCulture, out int read)) return false;
        await using var cmd = new NpgsqlCommand($"UPDATE {ClusterSchema.VersionTable} SET version = @next, changed_at = now() WHERE cluster_id = @c AND version = @read", conn, tx);
        cmd.Parameters.AddWithValue("c", clusterId);
        cmd.Parameters.AddWithValue("next", next.Version);
        cmd.Parameters.AddWithValue("read", read);
        return await cmd.ExecuteNonQueryAsync() == 1;
    }

    private void AddEntry(NpgsqlCommand cmd, MembershipEntry e)
    {
        cmd.Parameters.AddWithValue("c", clusterId);
        cmd.Parameters.AddWithValue("silo", e.SiloAddress.ToParsableString());
        cmd.Parameters.AddWithValue("name", e.SiloName ?? "");
        cmd.Parameters.AddWithValue("host", e.HostName ?? "");
        cmd.Parameters.AddWithValue("status", (int)e.Status);
        cmd.Parameters.AddWithValue("proxy", e.ProxyPort);
        cmd.Parameters.AddWithValue("uz", e.UpdateZone);
        cmd.Parameters.AddWithValue("fz", e.FaultZone);
        cmd.Parameters.AddWithValue("suspects", FormatSuspects(e.SuspectTimes));
        cmd.Parameters.AddWithValue("start", Utc(e.StartTime));
        cmd.Parameters.AddWithValue("alive", Utc(e.IAmAliveTime));
    }

    /// <summary>Suspicions as <c>silo=ticks</c> pairs joined by <c>;</c> (a parsable silo address has neither character).</summary>
    internal static string FormatSuspects(List<Tuple<SiloAddress, DateTime>>? suspects) =>
        suspects is null ? "" : string.Join(";", suspects.Select(s => s.Item1.ToParsableString() + "=" + Utc(s.Item2).Ticks.ToString(CultureInfo.InvariantCulture)));

    internal static List<Tuple<SiloAddress, DateTime>> ParseSuspects(string text) =>
        text.Length == 0 ? [] : [.. text.Split(';').Select(p =>
        {
            int eq = p.LastIndexOf('=');
            return Tuple.Create(SiloAddress.FromParsableString(p[..eq]), new DateTime(long.Parse(p[(eq + 1)..], CultureInfo.InvariantCulture), DateTimeKind.Utc));
        })];

    internal static DateTime Utc(DateTime t) => t.Kind switch
    {
        DateTimeKind.Local => t.ToUniversalTime(),
        DateTimeKind.Unspecified => DateTime.SpecifyKind(t, DateTimeKind.Utc),
        _ => t,
    };

    internal static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var conn = new NpgsqlConnection(connectionString);
        try { await conn.OpenAsync(); }
        catch { await conn.DisposeAsync(); throw; }
        return conn;
    }
}

/// <summary>A client's gateways: the proxy ports of the silos the membership table lists as active.</summary>
public sealed class PostgresGatewayListProvider(string connectionString, string clusterId, TimeSpan refreshPeriod) : IGatewayListProvider
{
    public TimeSpan MaxStaleness => refreshPeriod;

    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public async Task<IList<Uri>> GetGateways()
    {
        await using var conn = await PostgresMembershipTable.OpenAsync(connectionString);
        await using var cmd = new NpgsqlCommand($"SELECT silo, proxy_port FROM {ClusterSchema.SiloTable} WHERE cluster_id = @c AND status = @active AND proxy_port > 0", conn);
        cmd.Parameters.AddWithValue("c", clusterId);
        cmd.Parameters.AddWithValue("active", (int)SiloStatus.Active);
        var gateways = new List<Uri>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            var silo = SiloAddress.FromParsableString(r.GetString(0));
            gateways.Add(SiloAddress.New(new IPEndPoint(silo.Endpoint.Address, r.GetInt32(1)), silo.Generation).ToGatewayUri());
        }
        return gateways;
    }
}
