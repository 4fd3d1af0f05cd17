using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Loom.Cluster.Postgres;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;

namespace Loom.Cluster.Hosting;

/// <summary>Runs one silo until it is stopped (Ctrl+C, SIGTERM) — or killed, which the cluster survives.</summary>
public static class SiloHost
{
    public static IHost Build(SiloSettings s)
    {
        if (s.Localhost == (s.ClusterDb is not null)) throw new ClusterConfigException("loom silo needs exactly one of --cluster-db CONNSTR and --localhost");
        foreach (var (port, name) in new[] { (s.SiloPort, "--port"), (s.GatewayPort, "--gateway") })
            if (port is < 1 or > 65535) throw new ClusterConfigException($"{name} {port} is not a TCP port");
        if (s.SiloPort == s.GatewayPort) throw new ClusterConfigException($"--port and --gateway are both {s.SiloPort}; a silo needs two ports");
        var advertised = ClusterTimings.Advertised(s.Advertise, "--advertise");
        if (s.ClusterDb is { } db)
        {
            ClusterDb.CheckAsync(db, "--cluster-db").GetAwaiter().GetResult();
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        // Orleans' start-up notes (ServerGC advice) are not actionable for a `loom` silo; its errors still show.
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterNames.ClusterId, ClusterNames.ServiceId));
            silo.Configure<ClusterMembershipOptions>(ClusterTimings.Apply);
            if (s.Name is { } name) silo.Configure<SiloOptions>(o => o.SiloName = name);
            if (s.ClusterDb is { } cs)
            {
                // Loom's own PostgreSQL membership and grain storage (src/Loom.Cluster/Postgres).
                silo.Services.AddSingleton<IMembershipTable>(_ => new PostgresMembershipTable(cs, ClusterNames.ClusterId));
                silo.Services.AddGrainStorage(ClusterNames.Storage, (sp, _) => new PostgresGrainStorage(cs, sp.GetRequiredService<Orleans.Serialization.Serializer>()));
                if (advertised is null) silo.ConfigureEndpoints(s.SiloPort, s.GatewayPort);
                else silo.ConfigureEndpoints(advertised, s.SiloPort, s.GatewayPort, listenOnAnyHostAddress: true);
            }
            else
            {
                silo.UseLocalhostClustering(s.SiloPort, s.GatewayPort, s.PrimaryPort is { } p ? new IPEndPoint(IPAddress.Loopback, p) : null);
                silo.AddMemoryGrainStorage(ClusterNames.Storage);
            }
        });
        builder.Services.AddSingleton<SiloStartupBanner>();
        if (s.MaxModelBytes is < 1) throw new ClusterConfigException($"--max-model-bytes {s.MaxModelBytes} must be positive");
        builder.Services.AddSingleton(new SiloLimits(s.MaxModelBytes ?? long.MaxValue));
        return builder.Build();
    }

    /// <summary>Starts the silo, prints one line when it is up (tests and scripts wait for it), runs until stopped.</summary>
    public static async Task<int> RunAsync(SiloSettings s)
    {
        using var host = Build(s);
        try { await host.StartAsync(); }
        catch (Exception e) when (e is not LoomException)
        {
            throw new ClusterUnavailableException($"silo on port {s.SiloPort} (gateway {s.GatewayPort}) could not start: {e.Message}", e);
        }
        var local = host.Services.GetRequiredService<ILocalSiloDetails>();
        Console.WriteLine($"silo {local.Name} up at {local.SiloAddress.ToParsableString()} (gateway {local.GatewayAddress?.ToParsableString()}), {Environment.ProcessorCount} cores");
        await host.WaitForShutdownAsync();
        return 0;
    }
}

/// <summary>Placeholder service so silo-only registrations have one home.</summary>
internal sealed class SiloStartupBanner;
