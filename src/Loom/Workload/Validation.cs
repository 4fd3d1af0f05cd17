using System.Diagnostics;
using Loom.Conformance;
using Loom.Runtime;
using Loom.Workload.Simulation;

namespace Loom.Workload;

/// <summary>One node: its kernel path and work, simulated and measured (median over runs) seconds.</summary>
public sealed record NodeComparison(string Name, string Op, double Simulated, double Measured)
{
    public KernelWork Work { get; init; }
}

/// <summary>How measured runs are timed.</summary>
public enum ValidationClock
{
    /// <summary>Elapsed time: what a user waits, but inflated whenever other processes share the cores.</summary>
    Wall,
    /// <summary>
    /// CPU time of the calling thread, for one intra-op thread (every kernel then runs on it): what the run
    /// costs when it has its core to itself, stable on a shared machine. Per-node times are the thread's CPU
    /// time over each node (<see cref="RunTrace.Event.CpuMicroseconds"/>). With more threads CPU time would
    /// count workers spinning at barriers, so those runs are timed by <see cref="Wall"/>.
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
    /// <summary>The kernel-path rates fitted to the probes run between the measured runs.</summary>
    public KernelPathProfile? Profile { get; init; }
    /// <summary>The 1-minute load average before and after the measured runs (NaN where unknown): how busy the machine was.</summary>
    public double LoadBefore { get; init; } = double.NaN;
    public double LoadAfter { get; init; } = double.NaN;

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

    /// <summary>Per kernel path: nodes, Σ simulated, Σ measured — where the time model is off.</summary>
    public IEnumerable<(KernelPath Path, int Nodes, double Simulated, double Measured)> ByPath() =>
        Nodes.GroupBy(n => n.Work.Path).OrderByDescending(g => g.Sum(n => n.Measured))
            .Select(g => (g.Key, g.Count(), g.Sum(n => n.Simulated), g.Sum(n => n.Measured)));
}

/// <summary>
/// Describes Loom's own run on this machine as a one-device cluster (the run executes node after node, each
/// kernel on all <c>threads</c> intra-op threads, so the cores work as one device) whose speed is each kernel
/// path's rates probed on this machine (<see cref="KernelPathTimeModel"/>), simulates it, and compares with
/// measured runs of the same session: median of the end-to-end times, median per node from run traces.
/// </summary>
public static class Validation
{
    /// <param name="clock">How runs are timed; null: CPU time with one thread (where the platform has a thread clock), else wall.</param>
    public static ValidationResult Run(string modelPath, int threads, int runs = 5, ValidationClock? clock = null)
    {
        if (threads < 1) throw new WorkloadException($"threads must be at least 1 (got {threads})");
        if (runs < 1) throw new WorkloadException($"runs must be at least 1 (got {runs})");
        var used = clock ?? (threads == 1 && CpuClock.Available ? ValidationClock.Cpu : ValidationClock.Wall);
        if (used == ValidationClock.Cpu && (threads != 1 || !CpuClock.Available))
            throw new WorkloadException($"the CPU clock times runs on one thread of a platform with a thread clock (Linux), not {threads} thread(s) here: use the wall clock");
        // One pool for the model and the probes: idle workers of a second pool would spin on the cores the runs use.
        using var pool = new Runtime.Threading.WorkerPool(threads);
        var options = new LoomSessionOptions { IntraOpThreads = threads, ExecutionMode = ExecutionMode.Sequential, SharedPool = pool };
        using var session = LoomSession.Load(modelPath, options);
        var feeds = session.Inputs.ToDictionary(i => i.Name, i => (LoomValue)ConformanceRunner.DeterministicInput(i, _ => 1));
        using var probes = new KernelPathProbes(threads, pool);

        // Probes and model take turns, one run each per round, so that both see the machine in the same states (its
        // speed drifts: see KernelPathProbes); the model's rates come only from the probes, never from its own runs.
        probes.WarmUp();
        KernelPathProbes.WarmUp(session, feeds, TimeSpan.FromSeconds(1)); // pools, caches and the JIT, as the probes were
        double loadBefore = LoadAverage();
        int rounds = Math.Max(runs, KernelPathProbes.Runs);
        var wall = new List<double>();
        var measured = new List<double>();
        var perNode = new Dictionary<string, List<double>>();
        var trace = new RunTrace();
        for (int r = 0; r < rounds; r++)
        {
            probes.RunRound();
            if (r < rounds - runs) continue;
            double c0 = CpuClock.Now(threads);
            long t0 = Stopwatch.GetTimestamp();
            session.Run(feeds, trace).Dispose();
            wall.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            measured.Add(used == ValidationClock.Cpu ? CpuClock.Now(threads) - c0 : wall[^1]);
            foreach (var e in trace.Events)
            {
                if (!perNode.TryGetValue(e.Node, out var l)) perNode[e.Node] = l = new List<double>();
                l.Add((used == ValidationClock.Cpu ? e.CpuMicroseconds : e.DurationMicroseconds) * 1e-6);
            }
        }
        var (probeNodes, probeRuns) = probes.Samples();
        var machine = KernelPathProfile.Fit(threads, probeNodes, probeRuns);

        // Nodes computing only from constants run once, on the first run (CompiledGraph), so they are no part of a step.
        var profile = ModelProfile.Analyze(session.Model, new Dictionary<string, long>(), inferred: true);
        var time = new KernelPathTimeModel(machine, profile);
        var strategy = new ParallelStrategy { GlobalBatch = Math.Max(1, profile.Batch) };
        var workload = new WorkloadBuilder(profile, strategy, time).BuildAll();
        var report = new Simulator(new ClusterSpec { Name = "this machine", Devices = 1 }).Run(workload);
        double loadAfter = LoadAverage();
        var nodes = new List<NodeComparison>();
        var rank = workload.Ranks[0];
        var sim = report.Ranks[0];
        for (int i = 0; i < rank.Nodes.Count; i++)
        {
            var n = rank.Nodes[i];
            if (n.Kind != WorkloadNodeKind.Compute) continue;
            var name = n.Name.EndsWith(".mb0", StringComparison.Ordinal) ? n.Name[..^4] : n.Name;
            var op = profile.Ops.FirstOrDefault(o => o.Name == name);
            var work = op is null ? default : KernelPaths.Of(op.Node, profile.Graph, profile.Dims);
            // A trace times the kernel alone; the executor's share of a simulated node is the step's, not the node's.
            double simulated = sim.NodeEnd[i] - sim.NodeStart[i] - machine.Executor.SecondsPerWork;
            nodes.Add(new NodeComparison(name, n.Op, simulated, perNode.TryGetValue(name, out var l) ? Median(l) : 0) { Work = work });
        }
        return new ValidationResult(threads, used, report.StepSeconds, Median(measured), Median(wall), measured, nodes)
        {
            Profile = machine,
            MeasuredChromeTrace = trace.ToChromeJson(), SimulatedChromeTrace = SimulationTrace.ToChromeJson(workload, report),
            LoadBefore = loadBefore, LoadAfter = loadAfter,
        };
    }

    /// <summary>The 1-minute load average (Linux /proc/loadavg), NaN elsewhere.</summary>
    public static double LoadAverage()
    {
        try
        {
            var text = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg") : "";
            return double.TryParse(text.Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
        }
        catch (IOException) { return double.NaN; }
    }

    private static double Median(IEnumerable<double> xs)
    {
        var a = xs.Order().ToArray();
        return a.Length == 0 ? 0 : a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}
