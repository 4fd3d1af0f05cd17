using Orleans.Configuration;
using System.Net;

namespace Loom.Cluster.Hosting;

/// <summary>
/// How to start a silo: with a PostgreSQL database for membership and job state (<see cref="ClusterDb"/>),
/// or <see cref="Localhost"/> for a one-machine development cluster with no database (job state in memory).
/// </summary>
public sealed record SiloSettings(string? ClusterDb, bool Localhost, int SiloPort = ClusterNames.SiloPort, int GatewayPort = ClusterNames.GatewayPort,
    string? Advertise = null, string? Name = null, int? PrimaryPort = null, long? MaxModelBytes = null);

/// <summary>
/// Limits an operator puts on one silo (<c>loom silo --max-model-bytes N</c>): a model file above them does not load
/// there, and the job stops naming the silo and the limit rather than letting a small machine swap.
/// </summary>
public sealed record SiloLimits(long MaxModelBytes = long.MaxValue)
{
    /// <summary>The silo's limits as its host registered them (none in test clusters that register nothing).</summary>
    public static SiloLimits Of(IServiceProvider services) => services.GetService(typeof(SiloLimits)) as SiloLimits ?? new SiloLimits();

    /// <summary>Throws when <paramref name="path"/> is larger than this silo takes.</summary>
    public void CheckModel(string path)
    {
        long size = new FileInfo(path).Length;
        if (size > MaxModelBytes) throw new ResourceLimitException($"{path}: {size:N0} bytes, above this silo's --max-model-bytes {MaxModelBytes:N0}");
    }
}

/// <summary>Membership timings shared by silos and the test cluster: a killed silo is declared dead in seconds, not a minute.</summary>
internal static class ClusterTimings
{
    public static void Apply(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 2;
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>The address other silos and clients reach this one at: --advertise, else Orleans' pick.</summary>
    public static IPAddress? Advertised(string? advertise, string setting)
    {
        if (advertise is null) return null;
        if (IPAddress.TryParse(advertise, out var ip)) return ip;
        throw new ClusterConfigException($"{setting} '{advertise}' is not an IP address");
    }
}
