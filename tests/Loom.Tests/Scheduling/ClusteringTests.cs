using Loom.Scheduling;

namespace Loom.Tests.Scheduling;

/// <summary>Linear clustering, bottlenecks and bounds on small graphs whose answers are worked out by hand.</summary>
public sealed class ClusteringTests
{
    /// <summary>
    /// A fork-join: 0 → {1, 2, 3} → 4 with weights 1, 5, 3, 2, 1 and edge cost 0.5 everywhere.
    /// Heaviest path 0-1-4: 1 + .5 + 5 + .5 + 1 = 8. Then {2} and {3} alone.
    /// </summary>
    internal static DataflowGraph ForkJoin() => new([1, 5, 3, 2, 1],
        [(0, 1, .5), (0, 2, .5), (0, 3, .5), (1, 4, .5), (2, 4, .5), (3, 4, .5)]);

    [Fact]
    public void PeelsTheHeaviestPathFirstThenTheRest()
    {
        var clusters = LinearClustering.Run(ForkJoin());
        Assert.Equal([[0, 1, 4], [2], [3]], clusters);
    }

    [Fact]
    public void EdgeCostsCanMakeALighterNodeChainHeavier()
    {
        // 0 → 1 (weight 2, edge 0.1) and 0 → 2 (weight 1.5, edge 1), both → 3: via 2 costs 1+1+1.5+1 = 4.5 > 1+.1+2+.1 = 3.2.
        var g = new DataflowGraph([1, 2, 1.5, 1], [(0, 1, .1), (0, 2, 1), (1, 3, .1), (2, 3, 1)]);
        Assert.Equal([[0, 2, 3], [1]], LinearClustering.Run(g));
    }

    [Fact]
    public void CriticalPathAndBoundUseNodeWeightsOnly()
    {
        var g = ForkJoin();
        Assert.Equal([0, 1, 4], g.CriticalPath());
        Assert.Equal(7, g.CriticalPathLength);
        Assert.Equal(12, g.TotalWork);
        Assert.Equal(12.0 / 7, g.SpeedupBound(2), 12);
        Assert.Equal(1, g.SpeedupBound(1));
    }

    [Fact]
    public void BottlenecksAreTheNodesEverythingPassesThrough()
    {
        // chain 0 → 1, fork 1 → {2, 3} → 4 → 5, and 6 a second source joining at 7 = end.
        var g = new DataflowGraph([1, 1, 1, 1, 1, 1, 1, 1],
            [(0, 1, 0), (1, 2, 0), (1, 3, 0), (2, 4, 0), (3, 4, 0), (4, 5, 0), (5, 7, 0), (6, 7, 0)]);
        Assert.Equal([false, false, false, false, false, false, false, true], Bottlenecks.Find(g));
        var noSecondSource = new DataflowGraph([1, 1, 1, 1, 1, 1],
            [(0, 1, 0), (1, 2, 0), (1, 3, 0), (2, 4, 0), (3, 4, 0), (4, 5, 0)]);
        Assert.Equal([true, true, false, false, true, true], Bottlenecks.Find(noSecondSource));
        var segments = Bottlenecks.Segments(noSecondSource);
        Assert.Equal([[0], [1], [2, 3], [4], [5]], segments.Select(s => s.Nodes));
        Assert.Equal([true, true, false, true, true], segments.Select(s => s.IsBottleneck));
    }

    [Fact]
    public void AnEarlySinkIsNotBypassed()
    {
        // 0 → 1 and 0 → 2 → 3: node 1 is an output nobody reads, so 2 is not a bottleneck (1 may run beside it).
        var g = new DataflowGraph([1, 1, 1, 1], [(0, 1, 0), (0, 2, 0), (2, 3, 0)]);
        Assert.Equal([true, false, false, false], Bottlenecks.Find(g));
    }
}
