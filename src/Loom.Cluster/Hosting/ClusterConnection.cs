using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Loom.Cluster.Postgres;
using Orleans.Configuration;
using Orleans.Messaging;

namespace Loom.Cluster.Hosting;

/// <summary>
/// A client connected to a cluster: <c>--cluster CONNSTR</c> (gateways found in the PostgreSQL membership
/// table) or <c>--cluster localhost[:GATEWAY]</c> (a development cluster). The database is checked first so
/// that a bad string, a database that is down or a cluster with no silo each give one clear error.
/// </summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost? _host;

    private ClusterConnection(IHost? host, IClusterClient client) => (_host, Client) = (host, client);

    public IClusterClient Client { get; }

    /// <summary>Wraps a client someone else owns (the test cluster's).</summary>
    public static ClusterConnection Of(IClusterClient client) => new(null, client);

    public static async Task<ClusterConnection> ConnectAsync(string cluster, string setting = "--cluster")
    {
        bool localhost = cluster == "localhost" || cluster.StartsWith("localhost:", StringComparison.Ordinal);
        int gateway = ClusterNames.GatewayPort;
        if (localhost && cluster.Length > 10 && !int.TryParse(cluster[10..], out gateway))
            throw new ClusterConfigException($"{setting} '{cluster}': expected localhost:GATEWAYPORT");
        if (!localhost)
        {
            await ClusterDb.CheckAsync(cluster, setting);
            if (await ClusterDb.ActiveSilosAsync(cluster, setting) == 0)
                throw new ClusterUnavailableException($"{setting}: the cluster has no active silo (start one with `loom silo --cluster-db ...`)");
        }
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Critical);
        builder.UseOrleansClient(c =>
        {
            c.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterNames.ClusterId, ClusterNames.ServiceId));
            c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(60));
            if (localhost) c.UseLocalhostClustering(gateway);
            else c.Services.AddSingleton<IGatewayListProvider>(sp =>
                new PostgresGatewayListProvider(cluster, ClusterNames.ClusterId, sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod));
        });
        var host = builder.Build();
        try { await host.StartAsync(); }
        catch (Exception e) when (e is not LoomException)
        {
            host.Dispose();
            throw new ClusterUnavailableException($"{setting}: cannot connect to the cluster's gateways: {e.Message}", e);
        }
        return new ClusterConnection(host, host.Services.GetRequiredService<IClusterClient>());
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is null) return;
        try { await _host.StopAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { /* the cluster may be gone; nothing to flush */ }
        _host.Dispose();
    }
}
