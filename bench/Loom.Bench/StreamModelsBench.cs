using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Loom.Streams.Models;
using Microsoft.ML.OnnxRuntime;

namespace Loom.Bench;

/// <summary>
/// <c>stream-models [MODEL.onnx ...] [--inputs 64] [--cores 2] [--rounds 3] [--min-seconds 1] [--only a,b] [--shapes] [--ideal] [--ort-batch B,...] [--per-firing B,...] [--json FILE]</c>: each model
/// as a stream of N inputs (<see cref="ModelStream"/>, the plan its cost model chooses for the cores) against Loom
/// at one core (one 1-thread session, the inputs one after another) and ONNX Runtime's best on the same inputs:
/// one session with <c>cores</c> intra-op threads run sequentially, and <c>cores</c> 1-thread sessions run
/// concurrently; for a model whose inputs have a batch dimension of their own (PaddleOCR's), also one session with
/// <c>cores</c> intra-op threads running the items stacked B at a time (<c>--ort-batch 8</c>, a list allowed). Wall-clock items/s, the median over rounds run interleaved (so load changes hit every
/// configuration alike), printed with the load average — on a shared machine they are noise; rerun idle. A model whose
/// one-core pass is short runs more rounds than <c>--rounds</c>, enough for Loom one core to take <c>--min-seconds</c> in
/// all (at most 31): the PaddleOCR classifier's 64 inputs take 25–50 ms, and a median of three such passes moved its
/// stream ÷ one-core ratio by ±0.1 between runs of the same build.
/// Beside each, the process's CPU milliseconds per item, which load disturbs much less: the stream's over Loom
/// one core's is what running as a stream costs (hand-offs, cache contention), and cores ÷ that ratio bounds the
/// stream's speedup on an idle machine when its stages are balanced.
/// A stream that runs items in batches (weight-bound stages, StagePlan.ItemsPerFiring) is also timed at one core ("stream 1c"),
/// so the second core's own share shows beside the batching's.
/// <c>--shapes</c> also times the plans not chosen (replicas only, and a pipeline of <c>cores</c> stages). <c>--ideal</c> also
/// times the one-core session on <c>cores</c> plain threads side by side (what replicas can reach without an executor: the
/// cores' shared cache and memory included), the same on a session per thread (what sharing one session costs) and ONNX Runtime at one thread.
/// Without models: the light models and PaddleOCR's (detector at 640×640, classifier at 48×192).
/// </summary>
internal static class StreamModelsBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Row(string Model, string Plan, int Rounds, double PredictedItemsPerSecond, Dictionary<string, double> ItemsPerSecond,
        Dictionary<string, double> ProcessCpuMsPerItem, double StreamOverOneCore, double StreamOverOrtBest, string LoadAverage);

    public static int Run(string[] args)
    {
        var models = new List<string>();
        int inputs = 64, cores = 2, rounds = 3;
        double minSeconds = 1;
        int[] ortBatches = [8];
        int[] perFiring = [];
        string[] only = [];
        bool shapes = false, ideal = false;
        string? json = null;
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--inputs": inputs = int.Parse(args[++i], Inv); break;
                case "--cores": cores = int.Parse(args[++i], Inv); break;
                case "--rounds": rounds = int.Parse(args[++i], Inv); break;
                case "--min-seconds": minSeconds = double.Parse(args[++i], Inv); break;
                case "--only": only = args[++i].Split(','); break;
                case "--shapes": shapes = true; break;
                case "--ideal": ideal = true; break;
                case "--per-firing": perFiring = [.. args[++i].Split(',').Select(v => int.Parse(v, Inv))]; break;
                case "--ort-batch": ortBatches = [.. args[++i].Split(',').Select(v => int.Parse(v, Inv))]; break;
                case "--json": json = args[++i]; break;
                default: models.Add(args[i]); break;
            }
        var specs = (models.Count > 0 ? models.Select(ModelSpec.For).ToList() : ModelSpec.Defaults())
            .Where(s => only.Length == 0 || only.Any(o => s.Name.Contains(o, StringComparison.Ordinal))).ToList();
        Console.WriteLine($"# {Environment.MachineName}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {inputs} inputs, {cores} cores, median of at least {rounds} interleaved rounds (more for models whose one-core pass is under {minSeconds / rounds:0.###} s), wall-clock items/s");
        Console.WriteLine($"{"model",-30} {"loom 1c",8} {$"stream {cores}c",9} {"predicted",9} {$"ort intra{cores}",10} {$"ort {cores}x1",9} {"/1c",5} {"/ort",5}  plan; load average");
        var rows = new List<Row>();
        foreach (var spec in specs) rows.Add(Bench(spec, inputs, cores, rounds, minSeconds, shapes, ideal, ortBatches, perFiring));
        if (json is not null)
        {
            var tmp = json + ".tmp";
            File.WriteAllText(tmp, JsonSerializer.Serialize(new { date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", Inv), machine = Environment.MachineName, cpus = Environment.ProcessorCount, inputs, cores, rounds, rows },
                new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
            File.Move(tmp, json, overwrite: true);
        }
        return 0;
    }

    private static Row Bench(ModelSpec spec, int inputs, int cores, int rounds, double minSeconds, bool shapes, bool ideal, int[] ortBatches, int[] perFiring)
    {
        var dims = spec.Dims(1);
        var configs = new List<(string Name, Action<int> Run, IDisposable Owner)>();
        try
        {
            // The one-core baseline compiles the model as the stream does (one thread, the same folding), so the ratio is the stream's own.
            var one = LoomSession.Load(spec.Path, ModelStream.OneCoreSessionOptions());
            var items = StreamInputs.Items(one.Inputs, dims, inputs);
            configs.Add(("loom 1c", n => { foreach (var it in items.Take(n)) one.Run(it).Dispose(); }, one));
            var chosen = ModelStream.Load(spec.Path, new ModelStreamOptions { Cores = cores, Dims = dims });
            configs.Add(("stream", n => { foreach (var r in chosen.Stream(items.Take(n))) r.Dispose(); }, chosen));
            var plan = chosen.Plan!;
            // A stream that runs items in batches (StagePlan.ItemsPerFiring) reads its weights once per batch, which the one-core
            // session (one item at a time) does not: the same stream on one core shows what the second core alone adds.
            if (cores > 1 && plan.Stages.Any(st => st.ItemsPerFiring > 1))
            {
                var oneCore = ModelStream.Load(spec.Path, new ModelStreamOptions { Cores = 1, Dims = dims });
                configs.Add(("stream 1c", n => { foreach (var r in oneCore.Stream(items.Take(n))) r.Dispose(); }, oneCore));
            }
            if (shapes)
                foreach (var k in new[] { 1, cores }.Where(k => k != plan.Stages.Count))
                {
                    var other = ModelStream.Load(spec.Path, new ModelStreamOptions { Cores = cores, Dims = dims, Stages = k });
                    configs.Add(($"stream {k} stage(s)", n => { foreach (var r in other.Stream(items.Take(n))) r.Dispose(); }, other));
                }
            // --per-firing B,...: the chosen plan's shape with every stage running B items per firing (whatever the planner chose).
            foreach (int b in perFiring)
            {
                var batched = ModelStream.Load(spec.Path, new ModelStreamOptions { Cores = cores, Dims = dims, ItemsPerFiring = b });
                configs.Add(($"stream b={b}", n => { foreach (var r in batched.Stream(items.Take(n))) r.Dispose(); }, batched));
            }
            // --ideal: the data-parallel ideal a stream of replicas aims at — the one-core session on `cores` plain threads, each
            // taking the next input, no executor — and ONNX Runtime at one thread (what its `cores` sessions side by side scale from).
            if (ideal) configs.Add(($"loom {cores}x1", n => SideBySide(cores, items.Take(n).ToList(), it => one.Run(it).Dispose()), new Disposer([])));
            // ... and on a session per thread (ONNX Runtime's 2x1 has its own): what sharing one session's kernels and weights costs.
            if (ideal)
            {
                var own = Enumerable.Range(0, cores).Select(_ => LoomSession.Load(spec.Path, ModelStream.OneCoreSessionOptions())).ToArray();
                configs.Add(($"loom {cores}x1 own", n => SideBySide(cores, items.Take(n).ToList(), (k, it) => own[k].Run(it).Dispose()), new Disposer(own)));
            }
            var ortItems = items.Select(OrtFeeds).ToList();
            var intra = new InferenceSession(spec.Path, new SessionOptions { IntraOpNumThreads = cores, InterOpNumThreads = 1 });
            var intraOptions = new RunOptions();
            configs.Add(("ort intra", n => { foreach (var f in ortItems.Take(n)) intra.Run(intraOptions, f.Names, f.Values, intra.OutputNames).Dispose(); }, intra));
            var singles = Enumerable.Range(0, cores).Select(_ => new InferenceSession(spec.Path, new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 })).ToArray();
            configs.Add(("ort concurrent", n => Concurrently(singles, ortItems.Take(n).ToList()), new Disposer(singles)));
            if (ideal) configs.Add(("ort 1c", n => { using var o = new RunOptions(); foreach (var f in ortItems.Take(n)) singles[0].Run(o, f.Names, f.Values, singles[0].OutputNames).Dispose(); }, new Disposer([])));
            // A model whose inputs have a batch dimension of their own also runs batched: B items per run, all threads.
            if (HasBatchDim(intra))
                foreach (int b in ortBatches)
                {
                    var batches = items.Chunk(b).Select(OrtBatch).ToList();
                    configs.Add(($"ort batch {b}", n => { foreach (var f in batches.Take((n + b - 1) / b)) intra.Run(intraOptions, f.Names, f.Values, intra.OutputNames).Dispose(); }, new Disposer([])));
                }

            // Warm-up: code, buffers, ORT's arenas — and the JIT's tiers. Loom's hot methods start as ReadyToRun code, are
            // recompiled with instrumentation once called often, and only then reach their final code: on the classifier the
            // first ~0.5 s of runs went at 510 items/s against 1,370 after, and the stream's threads shared the cores with
            // the JIT's background compiles (the stream ÷ one core ratio swung 1.1–2.0 from round to round). Each
            // configuration warms up as the models bench's do (BenchOptions.WarmUp: 1.5 s at least) before anything is timed.
            foreach (var c in configs) BenchOptions.WarmUp(() => c.Run(Math.Min(inputs, 2 * cores)));
            double onePass = Time(() => configs[0].Run(inputs)).Wall;
            rounds = Math.Max(rounds, Math.Min(31, (int)Math.Ceiling(minSeconds / Math.Max(onePass, 1e-6))));
            var wall = configs.ToDictionary(c => c.Name, _ => new List<double>());
            var cpu = configs.ToDictionary(c => c.Name, _ => new List<double>());
            for (int r = 0; r < rounds; r++)
                foreach (var c in configs)
                {
                    Thread.Sleep(100); // ONNX Runtime's intra-op threads spin after a run: let them stop before the next configuration
                    var (w, t) = Time(() => c.Run(inputs));
                    wall[c.Name].Add(w);
                    cpu[c.Name].Add(t);
                }
            var perSecond = wall.ToDictionary(t => t.Key, t => inputs / Median(t.Value));
            var cpuMs = cpu.ToDictionary(t => t.Key, t => 1e3 * Median(t.Value) / inputs);
            double ortBest = perSecond.Where(p => p.Key.StartsWith("ort ", StringComparison.Ordinal)).Max(p => p.Value);
            string load = LoadAverage();
            var row = new Row(spec.Name, plan.Shape, rounds, plan.PredictedItemsPerSecond, perSecond, cpuMs, perSecond["stream"] / perSecond["loom 1c"], perSecond["stream"] / ortBest, load);
            Console.WriteLine(string.Create(Inv,
                $"{spec.Name,-30} {perSecond["loom 1c"],8:F2} {perSecond["stream"],9:F2} {plan.PredictedItemsPerSecond,9:F2} {perSecond["ort intra"],10:F2} {perSecond["ort concurrent"],9:F2} {row.StreamOverOneCore,5:F2} {row.StreamOverOrtBest,5:F2}  {plan.Shape}; {rounds} rounds; load {load}"));
            Console.WriteLine(string.Create(Inv,
                $"{"",-30} process CPU ms per item: {string.Join(", ", cpuMs.Select(kv => $"{kv.Key} {kv.Value:F2}"))}"));
            foreach (var (name, v) in perSecond.Where(p => p.Key.StartsWith("ort batch ", StringComparison.Ordinal)))
                Console.WriteLine(string.Create(Inv, $"{"",-30} {name}: {v:F2} items/s (intra-op threads {cores})"));
            if (ideal)
                Console.WriteLine(string.Create(Inv, $"{"",-30} loom {cores}x1: {perSecond[$"loom {cores}x1"]:F2} items/s ({perSecond[$"loom {cores}x1"] / perSecond["loom 1c"]:F2}x loom 1c, stream {perSecond["stream"] / perSecond[$"loom {cores}x1"]:F2}x it); ort 1c: {perSecond["ort 1c"]:F2} items/s (ort {cores}x1 {perSecond["ort concurrent"] / perSecond["ort 1c"]:F2}x it); loom {cores}x1 on own sessions: {perSecond[$"loom {cores}x1 own"]:F2} items/s"));
            foreach (var (name, v) in perSecond.Where(p => p.Key.StartsWith("stream ", StringComparison.Ordinal)))
                Console.WriteLine(string.Create(Inv, $"{"",-30} {name}: {v:F2} items/s ({v / perSecond["loom 1c"]:F2}x loom 1c, {v / ortBest:F2}x ort best{(name == "stream 1c" ? $"; stream {cores}c {perSecond["stream"] / v:F2}x it" : "")})"));
            return row;
        }
        finally
        {
            foreach (var c in configs) c.Owner.Dispose();
        }
    }

    private static double Median(List<double> v) => BenchOptions.Median(v);

    /// <summary>Wall seconds and the whole process's CPU seconds (every thread: stream workers, ORT's pools, GC).</summary>
    private static (double Wall, double Cpu) Time(Action a)
    {
        var c0 = Process.GetCurrentProcess().TotalProcessorTime;
        long t0 = Stopwatch.GetTimestamp();
        a();
        double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return (wall, (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds);
    }

    /// <summary>Each session on its own thread, taking the next input until none is left.</summary>
    private static void Concurrently(InferenceSession[] sessions, List<(string[] Names, OrtValue[] Values)> items)
    {
        int next = -1;
        var threads = sessions.Select(s => new Thread(() =>
        {
            using var options = new RunOptions();
            for (int i; (i = Interlocked.Increment(ref next)) < items.Count;)
                s.Run(options, items[i].Names, items[i].Values, s.OutputNames).Dispose();
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
    }

    /// <summary>
    /// The calling thread and <paramref name="threads"/> − 1 thread-pool threads, each running the next item until none is
    /// left: threads that outlive the call, as the stream's own (<see cref="StreamCrew"/>) do, so per-thread GEMM scratch is
    /// not allocated and faulted in again on every call.
    /// </summary>
    private static void SideBySide<T>(int threads, List<T> items, Action<T> run) => SideBySide(threads, items, (_, it) => run(it));

    /// <summary>Items on <paramref name="threads"/> threads side by side, each taking the next; <paramref name="run"/> gets the thread's index.</summary>
    private static void SideBySide<T>(int threads, List<T> items, Action<int, T> run)
    {
        int next = -1;
        void Loop(int k) { for (int i; (i = Interlocked.Increment(ref next)) < items.Count;) run(k, items[i]); }
        var others = Enumerable.Range(1, threads - 1).Select(k => Task.Run(() => Loop(k))).ToArray();
        Loop(0);
        Task.WaitAll(others);
    }

    /// <summary>Whether every input's first dim is symbolic in the model itself (a literal batch of 1 is not a batch dimension for ONNX Runtime).</summary>
    private static bool HasBatchDim(InferenceSession s) => s.InputMetadata.Values.All(m => m.Dimensions is [< 0, ..]);

    /// <summary>Items stacked along their first dim: one batched run's feeds.</summary>
    private static (string[] Names, OrtValue[] Values) OrtBatch(Dictionary<string, LoomValue>[] items) =>
        ([.. items[0].Keys], [.. items[0].Keys.Select(name =>
        {
            var parts = items.Select(it => (Tensor)it[name]).ToArray();
            var shape = parts[0].Shape.ToArray().Select(d => (long)d).ToArray();
            shape[0] = parts.Sum(p => (long)p.Shape[0]);
            return OrtValue.CreateTensorValueFromMemory(parts.SelectMany(p => p.ToArray<float>()).ToArray(), shape);
        })]);

    private static (string[] Names, OrtValue[] Values) OrtFeeds(Dictionary<string, LoomValue> item) =>
        ([.. item.Keys], [.. item.Select(kv => kv.Value is Tensor { DataType: DataType.Float } t
            ? OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.Shape.ToArray().Select(d => (long)d).ToArray())
            : throw new InvalidOperationException($"input '{kv.Key}': only float inputs are benchmarked"))]);

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }

    private sealed class Disposer(IEnumerable<IDisposable> items) : IDisposable
    {
        public void Dispose() { foreach (var i in items) i.Dispose(); }
    }
}
