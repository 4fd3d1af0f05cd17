using Loom.Scheduling;

namespace Loom.Tests.Scheduling;

/// <summary>Merging clusters onto workers, the simulated timeline and the choice between parallel and wide stages.</summary>
public sealed class SchedulerTests
{
    [Fact]
    public void SimulationChargesTransfersOnlyAcrossWorkers()
    {
        var g = ClusteringTests.ForkJoin();
        int[] order = [0, 1, 2, 3, 4];
        var start = new double[5];
        var finish = new double[5];
        // Node 2 on worker 1, the rest on worker 0: 0 [0,1]; 1 [1,6]; 2 [1.5,4.5]; 3 [6,8]; 4 waits for 3 → [8,9].
        double span = ScheduleSimulation.Run(g, order, [0, 0, 1, 0, 0], 2, start, finish);
        Assert.Equal([0, 1, 1.5, 6, 8], start);
        Assert.Equal(9, span);
    }

    [Fact]
    public void MergingBalancesTheForkJoinOntoTwoWorkers()
    {
        var g = ClusteringTests.ForkJoin();
        var clusters = LinearClustering.Run(g);
        var order = ScheduleSimulation.PriorityOrder(g);
        Assert.Equal([0, 1, 2, 3, 4], order);
        var workerOf = ClusterMerging.Run(g, clusters, 2, order);
        // Greedy merging puts {0,1,4} on worker 0 and {2}, {3} on worker 1: 2 [1.5,4.5], 3 [4.5,6.5], 4 starts
        // at max(6, 7) = 7 → span 8. Refinement then moves node 0 to worker 1: 0 [0,1], 2 [1,4], 3 [4,6] there;
        // 1 [1.5,6.5] on worker 0 after the transfer from 0; 4 at max(6.5, 4.5, 6.5) = 6.5 → span 7.5.
        Assert.Equal([1, 0, 1, 1, 0], workerOf);
        Assert.Equal(7.5, ScheduleSimulation.Run(g, order, workerOf, 2));
    }

    [Fact]
    public void InterOpOnlyMakesOneParallelStageWithOneThreadPerNode()
    {
        var g = ClusteringTests.ForkJoin();
        var s = Scheduler.Build(g, [1, 5, 3, 2, 1], 2, interOpOnly: true);
        Assert.Single(s.Stages);
        Assert.True(s.Stages[0].IsParallel);
        Assert.All(s.Threads, t => Assert.Equal(1, t));
        Assert.Equal(7.5, s.PredictedMakespan); // as in MergingBalancesTheForkJoinOntoTwoWorkers
        Assert.Equal(12.0 / 7.5, s.PredictedSpeedup, 12);
        Assert.Equal(12.0 / 7, s.SpeedupBound, 12);
        Assert.Equal([[1, 4], [0, 2, 3]], s.Stages[0].WorkerNodes);
    }

    [Fact]
    public void BottlenecksRunWideAndARegionRunsWideWhenThatIsFaster()
    {
        var g = ClusteringTests.ForkJoin();
        // Kernels that halve with two threads: the region {1,2,3} takes 5 wide (10/2), no better side by side
        // (5 on one worker, 3 + 2 on the other), and a tie goes to the plainer wide stage.
        var halved = new double[] { .5, 2.5, 1.5, 1, .5 };
        var s = Scheduler.Build(g, halved, 2, interOpOnly: false);
        Assert.Single(s.Stages);
        Assert.False(s.Stages[0].IsParallel);
        Assert.All(s.Threads, t => Assert.Equal(2, t));
        Assert.Equal(6, s.PredictedMakespan, 12);

        // Kernels that do not scale: the region runs side by side, bottlenecks 0 and 4 wide.
        s = Scheduler.Build(g, [1, 5, 3, 2, 1], 2, interOpOnly: false);
        Assert.Equal([false, true, false], s.Stages.Select(x => x.IsParallel));
        Assert.Equal([[1], [2, 3]], s.Stages[1].WorkerNodes);
        Assert.Equal(1 + 5 + 1, s.PredictedMakespan, 12); // within a region, data from the stage before is ready
    }

    [Fact]
    public void SchedulesAreDeterministic()
    {
        var rng = new Random(7);
        var weights = Enumerable.Range(0, 60).Select(_ => rng.NextDouble()).ToArray();
        var edges = new List<(int, int, double)>();
        for (int v = 1; v < 60; v++)
            for (int k = 0; k < 2; k++) edges.Add((rng.Next(v), v, rng.NextDouble() * .1));
        var g = new DataflowGraph(weights, edges);
        var a = Scheduler.Build(g, weights, 3, interOpOnly: true);
        var b = Scheduler.Build(g, weights, 3, interOpOnly: true);
        Assert.Equal(a.WorkerOf, b.WorkerOf);
        Assert.Equal(a.Start, b.Start);
        Assert.True(a.PredictedMakespan >= g.CriticalPathLength - 1e-12);
        Assert.True(a.PredictedMakespan <= g.TotalWork + g.EdgeCount * .1);
    }
}
