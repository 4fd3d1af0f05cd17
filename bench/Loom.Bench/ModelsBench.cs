using System.Diagnostics;
using System.Globalization;
using Loom.Conformance;
using Microsoft.ML.OnnxRuntime;

namespace Loom.Bench;

/// <summary>
/// <c>models [MODEL.onnx ...] --vs onnxruntime --threads 1,2 [--runs N] [--batch 4] [--gate X] [--json FILE]</c>: for each model and
/// thread count, Loom sequential, Loom scheduled (inter- and intra-op), Loom inter-op only, the batch split
/// into sub-batches, and ONNX Runtime sequential (intra-op T) and parallel (inter-op T) — all in one
/// process, configurations taking turns in blocks of five runs after warm-up; with more than one thread the FMA
/// throughput of all threads at once is printed before and after (on a VM two vCPUs may share a core). The
/// ratio is Loom's best against ONNX Runtime's best. Without models: the light models and PaddleOCR's.
/// GFLOP/s counts the model's FLOPs (<see cref="Inference.FlopCounter"/>, multiply-add = 2) over the median,
/// and % of peak divides by this machine's FMA peak per core (<see cref="PeakBench"/>) times the threads.
/// <c>--json FILE</c> also writes every row as JSON (whole or not at all). <c>--gate X</c> waits before each multi-thread
/// block (up to 15 checks, 20 s apart) until the FMA check reads at least X: this VM's second vCPU runs at half speed for
/// minutes at a time, and a block measured then times one and a half cores, not two (the wait is printed).
/// </summary>
internal static class ModelsBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var models = new List<string>();
        int[] threadCounts = [1, 2];
        int runs = 15, batch = 4;
        bool ort = false;
        double gate = 0;
        string? json = null;
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--threads": threadCounts = args[++i].Split(',').Select(int.Parse).ToArray(); break;
                case "--runs": runs = int.Parse(args[++i], Inv); break;
                case "--batch": batch = int.Parse(args[++i], Inv); break;
                case "--vs": ort = args[++i] == "onnxruntime"; break;
                case "--json": json = args[++i]; break;
                case "--gate": gate = double.Parse(args[++i], Inv); break;
                default: models.Add(args[i]); break;
            }
        var specs = models.Count > 0 ? models.Select(ModelSpec.For).ToList() : ModelSpec.Defaults();
        double peak = Math.Max(PeakBench.Measure(3).V512, PeakBench.Measure(1).V256);
        Console.WriteLine(string.Create(Inv, $"FMA peak {peak:F1} GFLOP/s per core; {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores"));
        Console.WriteLine($"{"model",-28} {"T",2} {"configuration",-26} {"batch",5} {"median ms",10} {"vs loom seq 1T",15} {"GFLOP/s",8} {"% peak",7}");
        var rows = new List<BenchRow>();
        foreach (var spec in specs)
            foreach (var t in threadCounts)
            {
                if (t > 1) Console.WriteLine(string.Create(Inv, $"{spec.Name,-28} {t,2}   FMA throughput of {t} threads at once: {WaitForCores(t, gate):F2}x one thread"));
                BenchModel(spec, t, runs, batch, ort, peak, rows);
                if (t > 1) Console.WriteLine(string.Create(Inv, $"{spec.Name,-28} {t,2}   ... and after: {PeakBench.ParallelScaling(t):F2}x"));
            }
        if (json is not null) BenchRow.WriteJson(json, peak, rows);
        return 0;
    }

    /// <summary>The FMA check of <paramref name="threads"/> threads, repeated while it reads under <paramref name="gate"/> (at most 15 times).</summary>
    private static double WaitForCores(int threads, double gate)
    {
        double s = PeakBench.ParallelScaling(threads);
        for (int i = 1; i < 15 && s < gate; i++)
        {
            Console.WriteLine(string.Create(Inv, $"  (FMA check {s:F2}x under --gate {gate:F2}: waiting 20 s, {DateTime.UtcNow:HH:mm:ss} UTC)"));
            Thread.Sleep(20_000);
            s = PeakBench.ParallelScaling(threads);
        }
        return s;
    }

    private static void BenchModel(ModelSpec spec, int threads, int runs, int batch, bool withOrt, double peak, List<BenchRow> rows)
    {
        var configs = new List<Config>();
        try
        {
            configs.Add(Config.Loom(spec, "loom sequential 1T", 1, ExecutionMode.Sequential, false, 1));
            if (threads > 1)
            {
                configs.Add(Config.Loom(spec, $"loom sequential {threads}T", threads, ExecutionMode.Sequential, false, 1));
                configs.Add(Config.Loom(spec, "loom scheduled", threads, ExecutionMode.Parallel, false, 1));
                configs.Add(Config.Loom(spec, "loom inter-op only", threads, ExecutionMode.Parallel, true, 1));
            }
            if (withOrt)
            {
                configs.Add(Config.Ort(spec, $"ort sequential (intra {threads})", threads, 1, ExecutionMode.Sequential));
                if (threads > 1) configs.Add(Config.Ort(spec, $"ort parallel (inter {threads})", 1, threads, ExecutionMode.Parallel));
            }
            if (batch > 1 && threads > 1 && spec.CanBatch)
            {
                configs.Add(Config.Loom(spec, "loom sequential 1T", 1, ExecutionMode.Sequential, false, batch));
                configs.Add(Config.Loom(spec, $"loom sequential {threads}T", threads, ExecutionMode.Sequential, false, batch));
                configs.Add(Config.Loom(spec, "loom split batch", threads, ExecutionMode.Parallel, false, batch));
            }
            foreach (var c in configs) BenchOptions.WarmUp(c.Once); // constant steps, buffers, and code past tiered compilation
            // Configurations take turns in blocks of a few runs, each after a pause: ONNX Runtime's threads keep
            // spinning after a run (and Loom's briefly), so one-by-one interleaving timed each runtime while the
            // other's threads still held the cores (a 0.8 ms classifier measured 12.8 ms on 2 threads right after
            // ORT), while whole-configuration blocks let a change in the machine (see ParallelScaling) land on
            // one configuration only.
            const int Block = 5;
            for (int done = 0; done < runs; done += Block)
                foreach (var c in configs)
                {
                    Thread.Sleep(100);
                    for (int r = done; r < Math.Min(runs, done + Block); r++) c.Time(r - done);
                }
            Report(spec, threads, configs, peak, rows);
        }
        finally
        {
            foreach (var c in configs) c.Dispose();
        }
    }

    private static void Report(ModelSpec spec, int threads, List<Config> configs, double peak, List<BenchRow> rows)
    {
        double Base(int b) => configs.First(c => c.IsLoom && c.Batch == b && c.Name == "loom sequential 1T").Median;
        foreach (var c in configs)
        {
            double gflops = spec.Flops(c.Batch) / c.Median / 1e6;
            int cores = c.Name.EndsWith("1T", StringComparison.Ordinal) ? 1 : threads;
            Console.WriteLine(string.Create(Inv, $"{spec.Name,-28} {threads,2} {c.Name,-26} {c.Batch,5} {c.Median,10:F2} {Base(c.Batch) / c.Median,14:F2}x {gflops,8:F1} {100 * gflops / (peak * cores),6:F0}%{c.ByPosition}"));
            rows.Add(new BenchRow(spec.Name, threads, c.Name, c.Batch, c.Median, gflops, 100 * gflops / (peak * cores)));
        }
        if (configs.FirstOrDefault(c => c.Name == "loom inter-op only") is { } inter && inter.Plan is { } plan)
        {
            double bound = plan.Schedule.SpeedupBound, measured = Base(1) / inter.Median;
            Console.WriteLine(string.Create(Inv, $"{spec.Name,-28} {threads,2}   inter-op: bound {bound:F2}, measured {measured:F2}x = {100 * measured / bound:F0}% of the bound"));
        }
        if (configs.FirstOrDefault(c => c.Name == "loom split batch") is { } split)
            Console.WriteLine(string.Create(Inv, $"{spec.Name,-28} {threads,2}   batch {split.Batch}: split {(split.Plan?.Hyper is { } h ? $"[{string.Join(",", h.SubBatches)}]" : "no")}, {Base(split.Batch) / split.Median:F2}x over loom sequential 1T"));
        var loomBest = configs.Where(c => c.IsLoom && c.Batch == 1 && (threads == 1 || c.Name != "loom sequential 1T")).MinBy(c => c.Median)!;
        if (configs.Where(c => !c.IsLoom).MinBy(c => c.Median) is { } ortBest)
        {
            Console.WriteLine(string.Create(Inv, $"{spec.Name,-28} {threads,2}   loom best ({loomBest.Name}) / ort best ({ortBest.Name}) = {loomBest.Median / ortBest.Median:F2}"));
            rows.Add(new BenchRow(spec.Name, threads, "ratio loom best / ort best", 1, loomBest.Median / ortBest.Median, 0, 0));
        }
    }

    /// <summary>One way of running one model: a Loom or ONNX Runtime session, its inputs and its times.</summary>
    private sealed class Config : IDisposable
    {
        private readonly List<double> _times = new();
        private Action _run = null!;
        private Action _dispose = () => { };

        public string Name { get; private init; } = "";
        public int Batch { get; private init; }
        public bool IsLoom { get; private init; }
        public Runtime.Parallel.ParallelPlan? Plan { get; private set; }

        public double Median => BenchOptions.Median(_times);

        // LOOM_BENCH_POSITIONS=1: the median of each run's position in its block (the first after the pause, the second, ...).
        private readonly List<(int Position, double Ms)> _positions = new();
        public string ByPosition => Environment.GetEnvironmentVariable("LOOM_BENCH_POSITIONS") != "1" ? "" :
            "  by position " + string.Join(" ", _positions.GroupBy(p => p.Position).OrderBy(g => g.Key)
                .Select(g => g.Select(p => p.Ms).Order().ElementAt(g.Count() / 2).ToString("F2", Inv)));

        public static Config Loom(ModelSpec spec, string name, int threads, ExecutionMode mode, bool interOpOnly, int batch)
        {
            var session = LoomSession.Load(spec.Path, new LoomSessionOptions
            {
                IntraOpThreads = threads, ExecutionMode = mode, InterOpOnly = interOpOnly, GeneralizeBatch = batch > 1 && spec.BatchSymbol == "batch",
            });
            var dims = spec.Dims(batch);
            var feeds = session.Inputs.ToDictionary(i => i.Name, i => (LoomValue)ConformanceRunner.DeterministicInput(i, s => dims.TryGetValue(s, out var v) ? v : null));
            return new Config
            {
                Name = name, Batch = batch, IsLoom = true, Plan = session.PlanFor(dims),
                _run = () => session.Run(feeds).Dispose(), _dispose = session.Dispose,
            };
        }

        public static Config Ort(ModelSpec spec, string name, int intra, int inter, ExecutionMode mode)
        {
            var options = new SessionOptions
            {
                IntraOpNumThreads = intra, InterOpNumThreads = inter,
                ExecutionMode = mode == ExecutionMode.Parallel ? Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_PARALLEL : Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL,
            };
            var session = new InferenceSession(spec.Path, options);
            var dims = spec.Dims(1);
            var names = session.InputMetadata.Keys.ToArray();
            var values = names.Select(n =>
            {
                var shape = session.InputMetadata[n].Dimensions.Select((d, k) => d > 0 ? d : (int)dims[session.InputMetadata[n].SymbolicDimensions[k]]).ToArray();
                int size = shape.Aggregate(1, (a, b) => a * b);
                var data = Enumerable.Range(0, size).Select(i => (float)i / size).ToArray();
                return OrtValue.CreateTensorValueFromMemory(data, shape.Select(d => (long)d).ToArray());
            }).ToArray();
            var runOptions = new RunOptions();
            return new Config
            {
                Name = name, Batch = 1, IsLoom = false,
                _run = () => session.Run(runOptions, names, values, session.OutputNames).Dispose(),
                _dispose = () => { foreach (var v in values) v.Dispose(); runOptions.Dispose(); session.Dispose(); options.Dispose(); },
            };
        }

        public void Once() => _run();

        public void Time(int position)
        {
            long t0 = Stopwatch.GetTimestamp();
            _run();
            _times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            _positions.Add((position, _times[^1]));
        }

        public void Dispose() => _dispose();
    }
}
