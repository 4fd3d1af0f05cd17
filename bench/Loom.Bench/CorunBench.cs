using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Loom;
using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.Kernels;
using Loom.Runtime;
using Loom.Streams.Models;
using Microsoft.ML.OnnxRuntime;

namespace Loom.Bench;

/// <summary>
/// What a second copy of a model on the other core costs the first (issues 4 and 8: the split batch's copies and a stream's
/// replicas). <c>corun MODEL [--runs 100] [--rounds 3] [--partners none,loom,ort,fma,mem] [--nodes]</c>: one-core sessions
/// (Loom's as a model stream's replicas get, ONNX Runtime's with one intra-op thread) run on this thread while a partner
/// thread runs: nothing, another Loom session of the model, another ONNX Runtime session, an FMA loop that touches no memory,
/// or a loop reading a 64 MiB buffer (memory traffic only). Times are this thread's CPU time per run (medians), so a partner
/// counts only through what the two cores share. Configurations alternate within each round. <c>--nodes</c>: Loom's nodes'
/// medians alone and beside a Loom partner, with the bytes each node's inputs and outputs of known shape hold (at --batch
/// above 1 the weights only: the activations' shapes carry the batch symbol).
/// </summary>
internal static class CorunBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        string path = args[0];
        int runs = 100, rounds = 3, batch = 1;
        string[] partners = ["none", "loom", "ort", "fma", "mem"];
        bool nodes = args.Contains("--nodes");
        for (int i = 1; i < args.Length; i++)
            switch (args[i])
            {
                case "--runs": runs = int.Parse(args[++i], Inv); break;
                case "--rounds": rounds = int.Parse(args[++i], Inv); break;
                case "--partners": partners = args[++i].Split(','); break;
                case "--batch": batch = int.Parse(args[++i], Inv); break;
            }

        // --batch B: a light model's literal batch 1 generalized, as the split batch's copies run it (sub-batches of B).
        var options = batch == 1 ? ModelStream.OneCoreSessionOptions()
            : new LoomSessionOptions { IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential, GeneralizeBatch = true };
        var timedLoom = new TimedSession(path, options);
        using var otherLoom = LoomSession.Create(OnnxImporter.Load(path, options), options);
        // Symbolic dims as the stream bench runs them (the detector at 640×640, the classifier at 48×192), others at the batch.
        var spec = ModelSpec.For(path);
        Func<string, long?> DimsAt(int b) { var d = spec.Dims(b); return s => d.TryGetValue(s, out var v) ? v : b; }
        var feeds = timedLoom.Session.Inputs.ToDictionary(i => i.Name, i => (LoomValue)ConformanceRunner.DeterministicInput(i, DimsAt(batch)));
        // ONNX Runtime's sessions take the model as it is: batch 1 only (a literal batch dimension).
        var ortFeeds = timedLoom.Session.Inputs.Select(i => (i.Name, (Tensor)ConformanceRunner.DeterministicInput(i, DimsAt(1)))).Select(kv => (kv.Name,
            OrtValue.CreateTensorValueFromMemory(kv.Item2.ToArray<float>(), kv.Item2.Shape.ToArray().Select(d => (long)d).ToArray()))).ToArray();
        using var ortA = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 });
        using var ortB = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 });
        string[] names = [.. ortFeeds.Select(f => f.Name)];
        OrtValue[] values = [.. ortFeeds.Select(f => f.Item2)];
        using var ro = new RunOptions();
        Action loomRun = () => timedLoom.Session.Run(feeds).Dispose();
        Action ortRun = () => ortA.Run(ro, names, values, ortA.OutputNames).Dispose();
        var partnerWork = new Dictionary<string, Action<Func<bool>>>
        {
            ["none"] = _ => { },
            ["loom"] = stop => { while (!stop()) otherLoom.Run(feeds).Dispose(); },
            ["ort"] = stop => { while (!stop()) ortB.Run(ro, names, values, ortB.OutputNames).Dispose(); },
            ["fma"] = stop => { while (!stop()) GC.KeepAlive(Fma(200_000, Vector512.Create(1f), Vector512.Create(0.999999f))); },
            ["mem"] = MemoryTraffic,
        };
        BenchOptions.WarmUp(loomRun);
        BenchOptions.WarmUp(ortRun);
        BenchOptions.WarmUp(() => otherLoom.Run(feeds).Dispose());
        BenchOptions.WarmUp(() => ortB.Run(ro, names, values, ortB.OutputNames).Dispose());

        var whole = new Dictionary<(string Measured, string Partner), List<double>>();
        var wall = new Dictionary<(string Measured, string Partner), List<double>>();
        var perNode = partners.ToDictionary(p => p, _ => new Dictionary<int, List<long>>());
        for (int r = 0; r < rounds; r++)
            foreach (var p in partners)
                foreach (var (measured, run) in new[] { ("loom", loomRun), ("ort", ortRun) })
                {
                    var list = whole.TryGetValue((measured, p), out var l) ? l : whole[(measured, p)] = [];
                    var wallList = wall.TryGetValue((measured, p), out var wl) ? wl : wall[(measured, p)] = [];
                    bool stop = false;
                    var partner = new Thread(() => partnerWork[p](() => Volatile.Read(ref stop))) { IsBackground = true };
                    partner.Start();
                    Thread.Sleep(20); // the partner in its steady state before anything is timed
                    timedLoom.Samples = measured == "loom" ? perNode[p] : null;
                    for (int i = 0; i < runs; i++)
                    {
                        double c0 = ThreadCpuClock.NowMs();
                        long w0 = System.Diagnostics.Stopwatch.GetTimestamp();
                        run();
                        list.Add(ThreadCpuClock.NowMs() - c0);
                        wallList.Add(System.Diagnostics.Stopwatch.GetElapsedTime(w0).TotalMilliseconds);
                    }
                    timedLoom.Samples = null;
                    Volatile.Write(ref stop, true);
                    partner.Join();
                    Thread.Sleep(50);
                }

        Console.WriteLine(string.Create(Inv, $"{Path.GetFileName(path)}  runs {runs} x rounds {rounds}; this thread's CPU ms per run, median (and ratio to partner none); load {File.ReadAllText("/proc/loadavg").Trim()}"));
        foreach (var measured in new[] { "loom", "ort" })
        {
            double alone = Median(whole[(measured, "none")]);
            Console.WriteLine($"  {measured,-5}" + string.Concat(partners.Select(p =>
                string.Create(Inv, $"  beside {p}: {Median(whole[(measured, p)]),6:F3} ({Median(whole[(measured, p)]) / alone:F3})"))));
            // Per round (runs in a row), to tell a partner's cost from the machine's moments (the VM's second core slows at times).
            Console.WriteLine($"  {measured + " rounds",-5}" + string.Concat(partners.Select(p =>
                $"  beside {p}: " + string.Join(" ", whole[(measured, p)].Chunk(runs).Select(c => Median([.. c]).ToString("F2", Inv))))));
            double wallAlone = Median(wall[(measured, "none")]);
            Console.WriteLine($"  {measured + " wall",-5}" + string.Concat(partners.Select(p =>
                string.Create(Inv, $"  beside {p}: {Median(wall[(measured, p)]),6:F3} ({Median(wall[(measured, p)]) / wallAlone:F3})"))));
        }
        if (nodes && perNode.ContainsKey("loom"))
        {
            Console.WriteLine("  Loom per node, thread CPU medians in us: alone, beside loom, ratio, excess; bytes of inputs + outputs");
            double sumA = 0, sumB = 0;
            foreach (var (k, a) in perNode["none"].OrderByDescending(kv => Median(perNode["loom"][kv.Key]) - Median(kv.Value)))
            {
                double ma = Median(a) / 1e3, mb = Median(perNode["loom"][k]) / 1e3;
                sumA += ma;
                sumB += mb;
                Console.WriteLine(string.Create(Inv, $"  {timedLoom.Names[k],-64} {ma,8:F1} {mb,8:F1} {mb / ma,6:F3} {mb - ma,7:F1}  {timedLoom.Bytes[k] / 1024.0,8:F0} KiB"));
            }
            Console.WriteLine(string.Create(Inv, $"  nodes summed {sumA / 1e3:F3} ms alone, {sumB / 1e3:F3} ms beside loom ({sumB / sumA:F3})"));
        }
        return 0;
    }

    /// <summary>Reads a 64 MiB buffer (beyond L3) line by line: memory traffic with no arithmetic to speak of.</summary>
    private static void MemoryTraffic(Func<bool> stop)
    {
        var buffer = new float[16 << 20];
        float sum = 0;
        while (!stop())
            for (int i = 0; i < buffer.Length; i += 16) sum += buffer[i];
        GC.KeepAlive(sum);
    }

    private static Vector512<float> Fma(long n, Vector512<float> x, Vector512<float> y) => PeakBench.Fma512(n, x, y);

    private static double Median(List<double> v) => BenchOptions.Median(v);
    private static double Median(List<long> v) => BenchOptions.Median(v.Select(x => (double)x));

    /// <summary>A one-core Loom session whose kernels record their thread CPU time (ns) per node while <see cref="Samples"/> is set.</summary>
    private sealed class TimedSession
    {
        public readonly LoomSession Session;
        public readonly List<string> Names = [];
        /// <summary>Bytes of a node's inputs and outputs, from its first timed run (symbolic dims such as the detector's H×W are known only then).</summary>
        public readonly List<long> Bytes = [];
        private readonly List<IReadOnlyList<Loom.IR.IrType?>> Types = [];
        public Dictionary<int, List<long>>? Samples;

        public TimedSession(string path, LoomSessionOptions options)
        {
            var registry = new KernelRegistry();
            foreach (var (domain, op) in KernelRegistry.Default.Operators)
                registry.Add(op, info =>
                {
                    int id;
                    lock (Names)
                    {
                        id = Names.Count;
                        Names.Add(Describe(info));
                        Bytes.Add(0);
                        Types.Add(info.OutputTypes);
                    }
                    return new Timed(KernelRegistry.Default.Resolve(info)(info), this, id);
                }, domain: domain);
            Session = LoomSession.Create(OnnxImporter.Load(path, options), options, registry);
        }

        private long BytesOf(KernelContext ctx, int id)
        {
            long bytes = 0;
            for (int i = 0; i < ctx.InputCount; i++)
                if (ctx.InputValue(i) is Tensor t) bytes += (long)t.Length * t.DataType.ElementSize();
            foreach (var type in Types[id])
                if (type is Loom.IR.TensorType { Shape: { } s } tt && s.Dims.Select(ctx.EvaluateDim).ToArray() is var dims && dims.All(d => d is not null))
                    bytes += dims.Aggregate(1L, (a, d) => a * d!.Value) * tt.ElementType.ElementSize();
            return bytes;
        }

        /// <summary>The node's name, op and the shapes its run saw (symbolic dims such as the detector's H×W are known only then).</summary>
        private string Concrete(KernelContext ctx, int id)
        {
            string Of(int i) => ctx.InputValue(i) is Tensor t ? string.Join('x', t.Shape.ToArray()) : "?";
            string output = Types[id].FirstOrDefault() is Loom.IR.TensorType { Shape: { } s } ? string.Join('x', s.Dims.Select(d => ctx.EvaluateDim(d)?.ToString() ?? "?")) : "?";
            return $"{ctx.Node.Name} {ctx.Node.OpType} {(ctx.InputCount > 1 ? Of(1) + " " : "")}{Of(0)}->{output}";
        }

        private static string Describe(KernelInfo info)
        {
            static string Shape(Loom.IR.IrType? t) => t is Loom.IR.TensorType { Shape: { } s } ? string.Join('x', s.Dims.Select(d => d.ToString())) : "?";
            var n = info.Node;
            return $"{n.Name} {n.OpType} {(info.InputTypes.Count > 1 ? Shape(info.InputTypes[1]) + " " : "")}{Shape(info.InputTypes[0])}->{Shape(info.OutputTypes[0])}";
        }

        private sealed class Timed(Kernel inner, TimedSession owner, int id) : Kernel
        {
            public override void Run(KernelContext ctx)
            {
                var samples = owner.Samples;
                if (samples is null) { inner.Run(ctx); return; }
                long t0 = (long)(ThreadCpuClock.NowMs() * 1e6);
                inner.Run(ctx);
                long t = (long)(ThreadCpuClock.NowMs() * 1e6) - t0;
                if (!samples.TryGetValue(id, out var list)) { samples[id] = list = []; owner.Bytes[id] = owner.BytesOf(ctx, id); owner.Names[id] = owner.Concrete(ctx, id); }
                list.Add(t);
            }
        }
    }
}
