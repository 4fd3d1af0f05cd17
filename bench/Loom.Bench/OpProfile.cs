using System.Diagnostics;
using System.Globalization;
using Loom;
using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.Kernels;
using Loom.Bench;
using Loom.Runtime;

/// <summary>
/// Where a model's time goes, by operator type: every kernel of the default registry is wrapped in a
/// timer, the model runs <c>--runs</c> times, and each operator's total is divided by the runs.
/// Usage: Loom.Bench profile MODEL.onnx [--dim NAME=SIZE ...] [--runs N] [--threads T] [--nodes] [--sequential] [--wall] [--min] [--cpu]
/// --nodes: one row per node (operator, input and output shapes), slowest first. With one thread times are
/// thread CPU time (stable on a loaded machine), else wall clock. --wall: wall clock at one thread too; --sequential: the
/// session in Sequential mode (every node with all threads, as "loom sequential NT"); --min: each node's fastest run
/// instead of the mean, which other processes rarely slow down (two-thread scaling per node on a shared machine).
/// --cpu: thread CPU time at any thread count, for a split batch's copies (one thread each; both copies summed), where it
/// counts the time a kernel stalls on what the other copy shares with it (memory, L3) but not the time other processes take.
/// </summary>
internal static class OpProfile
{
    private static bool s_wall, s_min, s_cpu;
    private static readonly Dictionary<string, long> s_best = new();

    public static int Run(string[] args)
    {
        string path = args[0];
        var dims = new Dictionary<string, long>();
        int runs = 20, threads = 1;
        bool byNode = args.Contains("--nodes"), sequential = args.Contains("--sequential");
        s_wall = args.Contains("--wall");
        s_min = args.Contains("--min");
        s_cpu = args.Contains("--cpu");
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--dim": var kv = args[++i].Split('='); dims[kv[0]] = long.Parse(kv[1], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
            }
        }
        var ticks = new Dictionary<string, long>();
        var samples = new Dictionary<string, List<long>>();
        var counts = new Dictionary<string, int>();
        var registry = new KernelRegistry();
        foreach (var (domain, op) in KernelRegistry.Default.Operators)
            registry.Add(op, info => new Timed(KernelRegistry.Default.Resolve(info)(info), ticks, samples, byNode ? Describe(info) : op), domain: domain);
        // --dim batch=N batches a light model (literal batch 1) as the bench's models mode does; at two threads or more the
        // session may then split the batch, whose copies run their kernels at once (the timer takes a lock).
        var options = new LoomSessionOptions
        {
            IntraOpThreads = threads, ExecutionMode = sequential ? ExecutionMode.Sequential : ExecutionMode.Parallel, GeneralizeBatch = dims.ContainsKey("batch"),
        };
        using var session = LoomSession.Create(OnnxImporter.Load(path, options), options, registry);
        var feeds = session.Inputs.ToDictionary(i => i.Name, i => (LoomValue)ConformanceRunner.DeterministicInput(i, s => dims.TryGetValue(s, out var v) ? v : null));
        foreach (var n in session.Model.Graph.Nodes) counts[n.OpType] = counts.GetValueOrDefault(n.OpType) + 1;
        // Warm up until tiered compilation has promoted the hot kernels (about 30 calls and a background delay).
        Loom.Bench.BenchOptions.WarmUp(() => session.Run(feeds).Dispose());
        ticks.Clear();
        samples.Clear();
        s_pool.Clear();
        s_workerShare.Clear();
        int gc0 = GC.CollectionCount(0);
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        var total = Stopwatch.StartNew();
        var runTicks = new List<long>(runs);
        for (int r = 0; r < runs; r++)
        {
            long r0 = Stopwatch.GetTimestamp();
            session.Run(feeds).Dispose();
            runTicks.Add(Stopwatch.GetTimestamp() - r0);
            if (!s_min) continue;
            foreach (var (op, t) in ticks) s_best[op] = Math.Min(s_best.GetValueOrDefault(op, long.MaxValue), t);
            ticks.Clear();
        }
        if (s_min) foreach (var (op, t) in s_best) ticks[op] = t * runs;
        double totalMs = total.Elapsed.TotalMilliseconds / runs;
        int gcs = GC.CollectionCount(0) - gc0;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(path)}  threads {threads}  runs {runs}  mean {totalMs:F2} ms per run"));
        // The run's own median and fastest against its nodes' medians and minima summed: what lies between and around the nodes.
        if (byNode)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  run median {Median(runTicks) * 1e3 / Stopwatch.Frequency:F3} ms, fastest {runTicks.Min() * 1e3 / Stopwatch.Frequency:F3} ms;  nodes' medians summed {samples.Values.Sum(Median) / 1e6:F3} ms, minima {samples.Values.Sum(v => v.Min()) / 1e6:F3} ms;  {allocated / runs} bytes allocated and {gcs / (double)runs:F3} gen-0 collections per run"));
        foreach (var (op, t) in ticks.OrderByDescending(kv => kv.Value))
        {
            double ms = t / 1e6 / runs;
            // --nodes: also the median over runs (one call per run), which a preempted run does not move.
            string median = byNode ? string.Create(CultureInfo.InvariantCulture, $"  median {Median(samples[op]) / 1e6,7:F3} ms") : "";
            if (s_pool.TryGetValue(op, out var ps))
                median += string.Create(CultureInfo.InvariantCulture,
                    $"  jobs {ps.Jobs / (double)runs,4:F1} parts {ps.Parts / (double)runs,4:F1}  start {ps.Start / runs,6:F1} us  wait {ps.Wait / runs,6:F1} us  idle {ps.Idle / runs,6:F1} us  join {ps.Detect / runs,5:F1} us  cpu in parts {ps.Cpu / runs,7:F1} us") + WorkerShare(op, ps.Parts, ps.Cpu);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {op,-24} {(byNode ? 1 : counts.GetValueOrDefault(op)),4}  {ms,9:F3} ms  {100 * ms / totalMs,5:F1} %{median}"));
        }
        if (s_pool.Count > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  pool per run: jobs {s_pool.Values.Sum(v => v.Jobs) / (double)runs:F1}  start {s_pool.Values.Sum(v => v.Start) / runs:F1} us  wait {s_pool.Values.Sum(v => v.Wait) / runs:F1} us  idle {s_pool.Values.Sum(v => v.Idle) / runs:F1} us  join {s_pool.Values.Sum(v => v.Detect) / runs:F1} us  cpu in parts {s_pool.Values.Sum(v => v.Cpu) / runs:F1} us"));
        return 0;
    }

    /// <summary>Nanoseconds: this thread's CPU time when the session has one thread, else the wall clock.</summary>
    private static long Now(KernelContext ctx) =>
        (ctx.Pool.Threads == 1 || s_cpu) && !s_wall && Loom.Bench.ThreadCpuClock.Available ? (long)(Loom.Bench.ThreadCpuClock.NowMs() * 1e6)
            : (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    private static string Describe(KernelInfo info)
    {
        static string Shape(Loom.IR.IrType? t) => t is Loom.IR.TensorType { Shape: { } s } ? string.Join('x', s.Dims.Select(d => d.ToString())) : "?";
        var n = info.Node;
        return $"{n.OpType} {(info.InputTypes.Count > 1 ? Shape(info.InputTypes[1]) + " " : "")}{Shape(info.InputTypes[0])}->{Shape(info.OutputTypes[0])} {n.Outputs[0]}";
    }

    // The worker's parts and CPU against the caller's (both per part): a worker whose parts run slower than the caller's is what
    // leaves the caller waiting at the join.
    private static string WorkerShare(string op, long parts, double cpu)
    {
        var (wp, wc) = s_workerShare.GetValueOrDefault(op);
        long cp = parts - wp;
        return wp == 0 || cp == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"  worker {wp / (double)parts,4:P0} of parts, us/part {(cpu - wc) / cp,6:F1} caller {wc / wp,6:F1} worker");
    }

    private static double Median(List<long> v) => v.Count == 0 ? 0 : BenchOptions.Median(v.Select(x => (double)x));

    // With LOOM_POOL_STATS=1: per node, the pool's jobs, the workers' start latency, the caller's wait at the joins and the workers'
    // idle ends, summed over the runs (see WorkerPoolStats).
    private static readonly Dictionary<string, (long Jobs, long Parts, double Start, double Wait, double Idle, double Detect, double Cpu)> s_pool = new();
    private static readonly Dictionary<string, (long Parts, double Cpu)> s_workerShare = new();

    private sealed class Timed(Kernel inner, Dictionary<string, long> ticks, Dictionary<string, List<long>> samples, string op) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            bool stats = Environment.GetEnvironmentVariable("LOOM_POOL_STATS") == "1";
            var before = stats ? ctx.Pool.Stats.Totals() : default;
            var beforeShare = stats ? ctx.Pool.Stats.WorkerShare() : default;
            long start = Now(ctx);
            inner.Run(ctx);
            long t = Now(ctx) - start;
            if (stats)
            {
                var after = ctx.Pool.Stats.Totals();
                var (j, pa, st, w, i, d, c) = s_pool.GetValueOrDefault(op);
                s_pool[op] = (j + after.Jobs - before.Jobs, pa + after.Parts - before.Parts, st + after.StartUs - before.StartUs, w + after.CallerWaitUs - before.CallerWaitUs,
                    i + after.WorkerIdleUs - before.WorkerIdleUs, d + after.DetectUs - before.DetectUs, c + after.PartCpuUs - before.PartCpuUs);
                var share = ctx.Pool.Stats.WorkerShare();
                var (wp, wc) = s_workerShare.GetValueOrDefault(op);
                s_workerShare[op] = (wp + share.Parts - beforeShare.Parts, wc + share.CpuUs - beforeShare.CpuUs);
            }
            lock (ticks)
            {
                ticks[op] = ticks.GetValueOrDefault(op) + t;
                if (!samples.TryGetValue(op, out var list)) samples[op] = list = [];
                list.Add(t);
            }
        }
    }
}
