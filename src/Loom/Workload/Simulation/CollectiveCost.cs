namespace Loom.Workload.Simulation;

/// <summary>
/// Alpha–beta times of collectives: each step of an algorithm costs the link latency α plus its bytes over
/// the link bandwidth. Rings move the least data ((p−1)/p of the buffer each way) but take p−1 steps;
/// trees (recursive halving/doubling) take log₂p steps and need a switch; a 2-D torus runs a ring along
/// each dimension, so its latency term grows with √p.
/// </summary>
public static class CollectiveCost
{
    public static double Seconds(CollectiveKind kind, long bytes, int p, LinkSpec link, Topology topology)
    {
        if (p <= 1 || bytes <= 0) return p <= 1 ? 0 : link.Latency;
        double a = link.Latency, s = bytes, bw = link.Bandwidth;
        double logp = Math.Ceiling(Math.Log2(p));
        var (x, y) = TorusDims(p);
        double ring, tree = double.PositiveInfinity, torus = double.PositiveInfinity;
        switch (kind)
        {
            case CollectiveKind.AllReduce:
                ring = 2 * (p - 1) * (a + s / (p * bw));
                tree = 2 * logp * a + 2.0 * (p - 1) / p * s / bw;
                torus = 2 * (x - 1) * (a + s / (x * bw)) + 2 * (y - 1) * (a + s / ((double)x * y * bw));
                break;
            case CollectiveKind.AllGather or CollectiveKind.ReduceScatter or CollectiveKind.Gather or CollectiveKind.Scatter:
                ring = (p - 1) * (a + s / (p * bw));
                tree = logp * a + (p - 1.0) / p * s / bw;
                torus = (x - 1) * (a + s / ((double)x * y * bw)) + (y - 1) * (a + s / (y * bw));
                break;
            case CollectiveKind.Broadcast or CollectiveKind.Reduce:
                ring = (p - 1) * a + s / bw;              // pipelined along the ring
                tree = logp * (a + s / bw);
                torus = (x - 1 + y - 1) * a + s / bw;
                break;
            case CollectiveKind.AllToAll:
                ring = (p - 1) * a + (p - 1.0) / p * s / bw * Math.Max(1, p / 4.0); // a ring's bisection carries p/4 of the traffic
                tree = (p - 1) * (a + s / (p * bw));                                   // a switch: every pair at full bandwidth
                torus = (p - 1) * a + (p - 1.0) / p * s / bw * Math.Max(1, (x + y) / 8.0);
                break;
            default:
                ring = (p - 1) * (a + s / (p * bw));
                break;
        }
        return topology switch
        {
            Topology.Ring => ring,
            Topology.Torus2D => Math.Min(torus, ring),
            _ => kind == CollectiveKind.AllToAll ? tree : Math.Min(ring, tree),
        };
    }

    /// <summary>Point-to-point: one latency plus the bytes at link bandwidth.</summary>
    public static double SendSeconds(long bytes, LinkSpec link) => link.Latency + bytes / link.Bandwidth;

    /// <summary>Rows × columns of the most square torus with <paramref name="p"/> devices.</summary>
    public static (int X, int Y) TorusDims(int p)
    {
        int x = (int)Math.Sqrt(p);
        while (x > 1 && p % x != 0) x--;
        return (x, p / x);
    }
}
