using Loom.Workload.Simulation;

namespace Loom.Workload;

/// <summary>One simulated strategy at one device count.</summary>
public sealed record SweepPoint(int Devices, string Family, ParallelStrategy Strategy, SimulationReport Report, double SamplesPerSecond, double Efficiency);

/// <summary>
/// Simulates a model over device counts (powers of two) and strategy families at a fixed batch per
/// device (weak scaling: what a cluster designer compares). Efficiency is samples/s per device relative
/// to one device. Each point simulates one rank per pipeline stage: data- and tensor-parallel peers are
/// symmetric, which is what keeps 1,024 devices cheap to simulate.
/// </summary>
public static class WorkloadSweep
{
    public static readonly (string Family, int Tp, int Pp)[] Families =
        [("DP", 1, 1), ("DP+TP2", 2, 1), ("DP+TP8", 8, 1), ("DP+PP4", 1, 4)];

    public static IReadOnlyList<SweepPoint> Run(WorkloadPlanner planner, ClusterSpec cluster, int minDevices, int maxDevices, bool training, long batchPerDevice,
        Func<ClusterSpec, IComputeTimeModel>? timeModel = null)
    {
        if (minDevices < 1 || maxDevices < minDevices) throw new WorkloadException($"device range {minDevices}..{maxDevices} is empty");
        var time = (timeModel ?? (c => new RooflineTimeModel(c.Device)))(cluster);
        var points = new List<SweepPoint>();
        double? single = null;
        var counts = new List<int>();
        for (long n = 1; n <= maxDevices; n *= 2) if (n >= minDevices) counts.Add((int)n);
        if (!counts.Contains(1))
        {
            var one = Simulate(planner, cluster with { Devices = 1 }, new ParallelStrategy { Training = training, GlobalBatch = batchPerDevice }, time);
            single = batchPerDevice / one.StepSeconds;
        }
        foreach (var n in counts)
            foreach (var (family, tp, pp) in Families)
            {
                if (tp * pp > n || n % (tp * pp) != 0) continue;
                int dp = n / (tp * pp);
                int micro = pp > 1 ? 2 * pp : 1;
                long global = batchPerDevice * n;
                if (global % ((long)dp * micro) != 0) continue;
                var s = new ParallelStrategy { DataParallel = dp, TensorParallel = tp, PipelineStages = pp, MicroBatches = micro, Training = training, GlobalBatch = global };
                var report = Simulate(planner, cluster with { Devices = n }, s, time);
                double sps = global / report.StepSeconds;
                single ??= sps; // the first point is one device, plain DP
                points.Add(new SweepPoint(n, family, s, report, sps, sps / (n * single.Value)));
            }
        return points;
    }

    private static SimulationReport Simulate(WorkloadPlanner planner, ClusterSpec cluster, ParallelStrategy s, IComputeTimeModel time) =>
        new Simulator(cluster).Run(planner.Builder(s, time).BuildRepresentatives());
}
