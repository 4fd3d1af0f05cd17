using System.Net;
using Loom.Cluster.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace Loom.Cluster.Tests;

/// <summary>
/// Loom's own membership table and grain storage, called directly on the fixture's database (under cluster
/// and state names of their own, so the silos' rows are untouched): optimistic concurrency on both.
/// </summary>
public partial class PostgresClusterTests
{
    private static MembershipEntry Entry(int port, SiloStatus status) => new()
    {
        SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 7),
        SiloName = $"s{port}",
        HostName = "host",
        Status = status,
        ProxyPort = port + 1,
        StartTime = DateTime.UtcNow,
        IAmAliveTime = DateTime.UtcNow,
        SuspectTimes = [],
    };

    [Fact]
    public async Task The_membership_table_refuses_stale_versions_and_etags()
    {
        cluster.RequirePostgres();
        const string id = "membership-test";
        var table = new PostgresMembershipTable(cluster.ConnectionString, id);
        await table.InitializeMembershipTable(true);
        await table.InitializeMembershipTable(true); // idempotent
        var empty = await table.ReadAll();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var a = Entry(5000, SiloStatus.Joining);
        Assert.True(await table.InsertRow(a, empty.Version.Next()));
        Assert.False(await table.InsertRow(Entry(5002, SiloStatus.Joining), empty.Version.Next())); // stale version
        var one = await table.ReadAll();
        Assert.Equal(1, one.Version.Version);
        var (row, etag) = Assert.Single(one.Members);
        Assert.Equal(a.SiloAddress, row.SiloAddress);
        Assert.Equal(SiloStatus.Joining, row.Status);
        Assert.Equal(5001, row.ProxyPort);

        row.Status = SiloStatus.Active;
        var suspecter = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 6000), 3);
        var when = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        row.SuspectTimes = [Tuple.Create(suspecter, when)];
        Assert.True(await table.UpdateRow(row, etag, one.Version.Next()));
        Assert.False(await table.UpdateRow(row, etag, one.Version.Next().Next())); // stale etag
        var two = await table.ReadRow(a.SiloAddress);
        Assert.Equal(2, two.Version.Version);
        var (updated, etag2) = Assert.Single(two.Members);
        Assert.NotEqual(etag, etag2);
        Assert.Equal(SiloStatus.Active, updated.Status);
        Assert.Equal(Tuple.Create(suspecter, when), Assert.Single(updated.SuspectTimes!));

        updated.IAmAliveTime = DateTime.UtcNow.AddMinutes(1);
        await table.UpdateIAmAlive(updated);
        var alive = Assert.Single((await table.ReadAll()).Members).Item1.IAmAliveTime;
        Assert.True(Math.Abs((alive - updated.IAmAliveTime).TotalMilliseconds) < 1);
        Assert.Equal(etag2, Assert.Single((await table.ReadAll()).Members).Item2); // the heartbeat moves no etag

        var gateways = await new PostgresGatewayListProvider(cluster.ConnectionString, id, TimeSpan.FromSeconds(1)).GetGateways();
        Assert.Equal(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 5001), 7).ToGatewayUri(), Assert.Single(gateways));

        updated.Status = SiloStatus.Dead;
        Assert.True(await table.UpdateRow(updated, etag2, two.Version.Next()));
        await table.CleanupDefunctSiloEntries(DateTimeOffset.UtcNow.AddMinutes(2));
        Assert.Empty((await table.ReadAll()).Members);
        await table.DeleteMembershipTableEntries(id);
        Assert.Equal(0, (await table.ReadAll()).Version.Version);
    }

    [Fact]
    public async Task Grain_storage_round_trips_and_refuses_stale_etags()
    {
        cluster.RequirePostgres();
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        var storage = new PostgresGrainStorage(cluster.ConnectionString, serializer);
        var grain = GrainId.Create("storage-test", Guid.NewGuid().ToString("N"));
        var state = new GrainState<List<string>>();
        await storage.ReadStateAsync("test", grain, state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);

        state.State = ["a", "b"];
        await storage.WriteStateAsync("test", grain, state);
        var stale = new GrainState<List<string>> { State = ["stale"] };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("test", grain, stale)); // no etag, row exists
        string first = state.ETag!;
        state.State.Add("c");
        await storage.WriteStateAsync("test", grain, state);
        stale.ETag = first;
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("test", grain, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("test", grain, stale));

        var read = new GrainState<List<string>>();
        await storage.ReadStateAsync("test", grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(["a", "b", "c"], read.State);
        Assert.Equal(state.ETag, read.ETag);

        await storage.ClearStateAsync("test", grain, read);
        Assert.False(read.RecordExists);
        await storage.ReadStateAsync("test", grain, read);
        Assert.False(read.RecordExists);
        Assert.Empty(read.State!);
    }
}
