namespace Loom.Cluster.Hosting;

/// <summary>The silos membership lists as active, asked of the management grain with bounded waits.</summary>
internal static class Membership
{
    /// <summary>
    /// The management grain answers from whichever silo the client's gateway is; when that silo was just killed
    /// the call would wait for the response timeout, so each try gets 3 s.
    /// </summary>
    public static async Task<Dictionary<SiloAddress, SiloStatus>> ActiveHostsAsync(IClusterClient client, string what)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { return await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(3)); }
            catch (Exception e) when (e is not LoomException && attempt < 20) { await Task.Delay(500); }
            catch (Exception e) when (e is not LoomException) { throw new ClusterUnavailableException($"{what}: no silo answers for the cluster's membership: {e.Message}", e); }
        }
    }
}
