using System.Diagnostics;
using Loom.Conformance;
using Loom.Scheduling;
using Loom.Workload.Simulation;

namespace Loom.Workload;

/// <summary>One node: simulated and measured (median over runs) seconds.</summary>
public sealed record NodeComparison(string Name, string Op, double Simulated, double Measured);

/// <summary>How measured runs are timed.</summary>
public enum ValidationClock
{
    /// <summary>Elapsed time: what a user waits, but inflated whenever other processes share the cores.</summary>
    Wall,
    /// <summary>
    /// CPU time of the run (the calling thread's with one thread; the process's divided by the threads
    /// otherwise): what the run costs when it has its cores to itself, stable on a shared machine. Per-node
    /// times are then each node's best elapsed time over the runs.
    /// </summary>
    Cpu,
}

/// <summary>Simulated vs measured step of Loom's own run; errors are (simulated − measured) / measured.</summary>
public sealed record ValidationResult(int Threads, ValidationClock Clock, double SimulatedSeconds, double MeasuredSeconds, double MedianWallSeconds,
    IReadOnlyList<double> RunSeconds, IReadOnlyList<NodeComparison> Nodes)
{
    /// <summary>The last measured run's trace in Chrome's format, and the simulated step in the same format.</summary>
    public string MeasuredChromeTrace { get; init; } = "";
    public string SimulatedChromeTrace { get; init; } = "";

    public double EndToEndError => (SimulatedSeconds - MeasuredSeconds) / MeasuredSeconds;
    /// <summary>Measured node times added up: what the run spent inside kernels, the rest being the executor's.</summary>
    public double MeasuredNodeSum => Nodes.Sum(n => n.Measured);
    /// <summary>Σ|simulated − measured| over Σ measured: per-node error weighted by time.</summary>
    public double NodeError => Nodes.Sum(n => Math.Abs(n.Simulated - n.Measured)) / Math.Max(1e-12, Nodes.Sum(n => n.Measured));
    public double MedianNodeError
    {
        get
        {
            var e = Nodes.Where(n => n.Measured > 0).Select(n => Math.Abs(n.Simulated - n.Measured) / n.Measured).Order().ToList();
            return e.Count == 0 ? 0 : e[e.Count / 2];
        }
    }
}

/// <summary>
/// Describes Loom's own run on this machine as a one-device cluster (the run executes node after node,
/// each kernel on all <c>threads</c> intra-op threads, so the cores work as one device) whose speed is
/// the cost model calibrated by machine probes, simulates it, and compares with measured runs of the same
/// session: median of the end-to-end times, median per node from run traces.
/// </summary>
public static class Validation
{
    /// <param name="recalibrate">Probe the machine afresh right before measuring (not from the cache), so that the
    /// device speed and the measured runs see the same load on a shared machine.</param>
    public static ValidationResult Run(string modelPath, int threads, int runs = 5, ValidationClock clock = ValidationClock.Cpu, bool recalibrate = false)
    {
        if (threads < 1) throw new WorkloadException($"threads must be at least 1 (got {threads})");
        if (runs < 1) throw new WorkloadException($"runs must be at least 1 (got {runs})");
        var options = new LoomSessionOptions { IntraOpThreads = threads, ExecutionMode = ExecutionMode.Sequential };
        using var session = LoomSession.Load(modelPath, options);
        var feeds = session.Inputs.ToDictionary(i => i.Name, i => (LoomValue)ConformanceRunner.DeterministicInput(i, _ => 1));

        // Nodes computing only from constants run once, on the first run (CompiledGraph), so they are no part of a step.
        var profile = ModelProfile.Analyze(session.Model, new Dictionary<string, long>(), inferred: true);
        var machine = recalibrate ? MachineProbes.Run($"this machine now, {threads} threads", threads) : MachineProfile.ForThisMachine(threads);
        var time = new CalibratedTimeModel(new CostModel(machine), profile, threads > 1);
        var strategy = new ParallelStrategy { GlobalBatch = Math.Max(1, profile.Batch) };
        var builder = new WorkloadBuilder(profile, strategy, time);
        var workload = builder.BuildAll();
        var cluster = new ClusterSpec { Name = "this machine", Devices = 1 };
        var report = new Simulator(cluster).Run(workload);

        for (int i = 0; i < 2; i++) session.Run(feeds).Dispose(); // warm: pools, JIT, caches
        var wall = new double[runs];
        var measured = new double[runs];
        var perNode = new Dictionary<string, List<double>>();
        var trace = new RunTrace();
        for (int r = 0; r < runs; r++)
        {
            double c0 = CpuClock.Now(threads);
            long t0 = Stopwatch.GetTimestamp();
            session.Run(feeds, trace).Dispose();
            wall[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            double cpu = (CpuClock.Now(threads) - c0) / threads;
            measured[r] = clock == ValidationClock.Cpu ? Math.Min(cpu, wall[r]) : wall[r];
            foreach (var e in trace.Events)
            {
                if (!perNode.TryGetValue(e.Node, out var l)) perNode[e.Node] = l = new List<double>();
                l.Add(e.DurationMicroseconds * 1e-6);
            }
        }
        var nodes = new List<NodeComparison>();
        var rank = workload.Ranks[0];
        var sim = report.Ranks[0];
        for (int i = 0; i < rank.Nodes.Count; i++)
        {
            var n = rank.Nodes[i];
            if (n.Kind != WorkloadNodeKind.Compute) continue;
            var name = n.Name.EndsWith(".mb0", StringComparison.Ordinal) ? n.Name[..^4] : n.Name;
            // Elapsed per node: its median, or with the CPU clock its best run (a node short against a time slice
            // is untouched by other processes in some run; trace events have no CPU times).
            double nodeMeasured = perNode.TryGetValue(name, out var l) ? clock == ValidationClock.Cpu ? l.Min() : Median(l) : 0;
            nodes.Add(new NodeComparison(name, n.Op, sim.NodeEnd[i] - sim.NodeStart[i], nodeMeasured));
        }
        return new ValidationResult(threads, clock, report.StepSeconds, Median(measured), Median(wall), measured, nodes)
        {
            MeasuredChromeTrace = trace.ToChromeJson(), SimulatedChromeTrace = SimulationTrace.ToChromeJson(workload, report),
        };
    }

    private static double Median(IEnumerable<double> xs)
    {
        var a = xs.Order().ToArray();
        return a.Length == 0 ? 0 : a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}
