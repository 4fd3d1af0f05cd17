using System.Diagnostics;
using System.Globalization;
using Loom.Import.LightGbm;
using Loom.Import.Onnx;
using Loom.Lowering.Trees;
using Loom.Tests.Trees;
using Microsoft.ML.OnnxRuntime;

namespace Loom.Bench;

/// <summary>
/// Tree ensembles: rows/s of Loom (each strategy and Auto's pick), LightGBM's native predictor and
/// ONNX Runtime's TreeEnsembleRegressor on the same ensemble. The ensembles are random perfect trees
/// of the given depth over 50 uniform features, written as LightGBM model text, loaded by LightGBM
/// itself, and imported (and exported as ONNX-ML for ONNX Runtime) by Loom. Each cell is the median
/// of several timed runs of at least 0.2 s.
/// </summary>
internal static class TreesBench
{
    internal const int Features = 50;
    internal const int Rotation = 1024;

    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--lowered") return TreesLoweredBench.Run(args[1..]);
        int[] trees = [100, 500], depths = [4, 8, 12], batches = [1, 100, 10_000], threads = [1, 2];
        int runs = 5;
        string[] only = [];
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            int[] List() => args[i + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            switch (args[i])
            {
                case "--trees": trees = List(); break;
                case "--depth": depths = List(); break;
                case "--batch": batches = List(); break;
                case "--threads": threads = List(); break;
                case "--runs": runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--only": only = args[i + 1].Split(','); break;
                case "--ab-avx2": return AbAvx2(int.Parse(args[i + 1], CultureInfo.InvariantCulture));
                case "--categorical": return Trained(int.Parse(args[i + 1], CultureInfo.InvariantCulture), categorical: true);
                case "--trained": return Trained(int.Parse(args[i + 1], CultureInfo.InvariantCulture), categorical: false);
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        var strategies = Enum.GetValues<TreeStrategy>().Where(s => s != TreeStrategy.Auto).ToArray();
        Console.WriteLine($"# rows/s (median of {runs}); ratio = Loom Auto / other. '-' = strategy not applicable.");
        Console.WriteLine("trees depth batch thr | " + string.Join(" ", strategies.Select(s => $"{Short(s),9}")) + " |  auto(pick)        lightgbm       ort | x lgbm  x ort");
        foreach (int t in trees)
            foreach (int d in depths)
            {
                string text = ModelText(t, d, seed: t * 100 + d);
                using var lgbm = LightGbmNative.Load(text);
                var model = LightGbmImporter.Parse(text, $"synthetic-{t}x{d}");
                var onnx = OnnxExporter.ToBytes(model);
                var forest = FlatForest.From(TreeEnsembleParser.Parse(model.Graph.Nodes[0], m => new GraphException(m)));
                foreach (int b in batches)
                {
                    // Single rows rotate through 1,024 different rows, so no engine gets to learn one row's path.
                    var x = Data(b == 1 ? Rotation : b, seed: b);
                    foreach (int th in threads)
                    {
                        // Every engine of a row is timed once per round, rounds repeated: load drift on a shared machine
                        // then hits all engines alike, and each cell is the median of its rounds.
                        var engines = new List<(string Name, Action Run)>();
                        foreach (var s in strategies)
                            if (StrategyHeuristic.Applies(s, forest) && (only.Length == 0 || only.Contains(Short(s))))
                                engines.Add((Short(s), LoomRunner(onnx, s, th, x, b)));
                        engines.Add(("auto", LoomRunner(onnx, TreeStrategy.Auto, th, x, b)));
                        engines.Add(("lightgbm", LightGbmRunner(lgbm, x, b, th)));
                        engines.Add(("ort", OrtRunner(onnx, x, b, th)));
                        var rates = MeasureRates(engines.Select(e => e.Run).ToArray(), b, runs);
                        double Rate(string name) => engines.FindIndex(e => e.Name == name) is var i and >= 0 ? rates[i] : double.NaN;
                        var cells = strategies.Select(s => double.IsNaN(Rate(Short(s))) ? "-" : Fmt(Rate(Short(s))));
                        double auto = Rate("auto"), lg = Rate("lightgbm"), ort = Rate("ort");
                        string pick = Short(StrategyHeuristic.Pick(forest, b));
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{t,5} {d,5} {b,5} {th,3} | {string.Join(" ", cells.Select(c => $"{c,9}"))} | {Fmt(auto),9}({pick,-5}) {Fmt(lg),9} {Fmt(ort),9} | {auto / lg,6:F2} {auto / ort,6:F2}"));
                    }
                }
            }
        return 0;
    }

    /// <summary>Alternates the interleaved walk with and without AVX2 gathers on 500 trees of depth 8, batch 10,000, 1 thread.</summary>
    private static int AbAvx2(int rounds)
    {
        var onnx = OnnxExporter.ToBytes(LightGbmImporter.Parse(ModelText(500, 8, seed: 808)));
        foreach (int batch in new[] { 1, 10_000 })
        {
            var run = LoomRunner(onnx, TreeStrategy.Interleaved, 1, Data(batch == 1 ? Rotation : batch, seed: 1), batch);
            for (int k = 0; k < rounds; k++)
                foreach (bool avx in new[] { true, false })
                {
                    InterleavedProgram.UseAvx2 = avx;
                    Console.WriteLine($"batch {batch} avx2={avx}: {Fmt(MeasureRate(run, batch, 3))} rows/s");
                }
        }
        return 0;
    }

    /// <summary>
    /// A LightGBM model trained here (300 rounds, 63 leaves, leaf-wise so unbalanced), optionally with
    /// categorical splits (feature 0: 20 categories): Loom's pick vs the generic walk (forced
    /// TreeTraversal, which for category sets is the generic walk) vs LightGBM vs ONNX Runtime, batch 10,000.
    /// </summary>
    private static int Trained(int threads, bool categorical)
    {
        var rng = new Random(5);
        int rows = 20_000;
        var x = new float[rows * Features];
        var y = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            x[r * Features] = rng.Next(20);
            for (int c = 1; c < Features; c++) x[r * Features + c] = (float)rng.NextDouble();
            y[r] = (float)(Math.Sin(x[r * Features] * 1.7) + x[r * Features + 1] * x[r * Features + 2] + rng.NextDouble() * 0.1);
        }
        using var lgbm = LightGbmNative.Train(x, y, rows, Features, $"objective=regression num_leaves=63 max_cat_to_onehot=2 min_data_per_group=20 verbose=-1 num_threads={threads}", 300,
            categorical ? "categorical_feature=0" : "");
        var model = LightGbmImporter.Parse(lgbm.ModelText(), "categorical");
        var onnx = OnnxExporter.ToBytes(model);
        int batch = 10_000;
        var data = x.AsSpan(0, batch * Features).ToArray();
        var engines = new List<(string Name, Action Run)>
        {
            ("loom auto", LoomRunner(onnx, TreeStrategy.Auto, threads, data, batch)),
            ("loom tt", LoomRunner(onnx, TreeStrategy.TreeTraversal, threads, data, batch)),
            ("lightgbm", LightGbmRunner(lgbm, data, batch, threads)),
        };
        try { engines.Add(("ort", OrtRunner(onnx, data, batch, threads))); }
        catch (OnnxRuntimeException e) { Console.WriteLine($"onnxruntime cannot load it: {e.Message}"); }
        var rates = MeasureRates(engines.Select(e => e.Run).ToArray(), batch, 3);
        var depths = FlatForest.From(TreeEnsembleParser.Parse(model.Graph.Nodes[0], m => new GraphException(m))).Depths;
        Console.WriteLine($"trained model ({(categorical ? "categorical" : "numerical")}): {model.Graph.Nodes[0].OpType}, 300 trees of <= 63 leaves, depth mean {depths.Average():F1} max {depths.Max()}, batch {batch}, {threads} threads");
        for (int e = 0; e < engines.Count; e++) Console.WriteLine($"  {engines[e].Name,-12} {Fmt(rates[e]),9} rows/s");
        return 0;
    }

    internal static string Short(TreeStrategy s) => s switch
    {
        TreeStrategy.Gemm => "gemm", TreeStrategy.TreeTraversal => "tt", TreeStrategy.PerfectTreeTraversal => "ptt",
        TreeStrategy.Interleaved => "inter", _ => "auto",
    };

    internal static string Fmt(double rate) => rate >= 1e6 ? $"{rate / 1e6:F2}M" : rate >= 1e3 ? $"{rate / 1e3:F1}k" : $"{rate:F0}";

    /// <summary>Median rows/s of each runner over <paramref name="runs"/> rounds; a round times each runner once.</summary>
    internal static double[] MeasureRates(Action[] runners, int batch, int runs)
    {
        var samples = runners.Select(_ => new double[runs]).ToArray();
        foreach (var r in runners) Warm(r);
        for (int k = 0; k < runs; k++)
            for (int e = 0; e < runners.Length; e++) samples[e][k] = Once(runners[e], batch);
        return samples.Select(v => { Array.Sort(v); return v[runs / 2]; }).ToArray();
    }

    private static void Warm(Action run)
    {
        var warm = Stopwatch.StartNew();
        do run(); while (warm.Elapsed.TotalSeconds < 0.3);
    }

    /// <summary>Rows/s of one timing: the call repeated for at least 0.2 s.</summary>
    private static double Once(Action run, int batch)
    {
        long calls = 0;
        var sw = Stopwatch.StartNew();
        do { run(); calls++; } while (sw.Elapsed.TotalSeconds < 0.2);
        return calls * batch / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Median rows/s over <paramref name="runs"/> timings after warm-up.</summary>
    private static double MeasureRate(Action run, int batch, int runs) => MeasureRates([run], batch, runs)[0];

    internal static float[] Data(int rows, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * Features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        return x;
    }

    /// <summary>The batches a runner cycles through: one of <paramref name="rows"/> rows, or (batch 1) each row of x in turn.</summary>
    private static float[][] Batches(float[] x, int rows) =>
        rows > 1 ? [x] : Enumerable.Range(0, x.Length / Features).Select(r => x.AsSpan(r * Features, Features).ToArray()).ToArray();

    internal static Action LoomRunner(byte[] onnx, TreeStrategy s, int threads, float[] x, int rows, TreeLowering lowering = TreeLowering.Fused)
    {
        var session = LoomSession.Load(onnx, new LoomSessionOptions { TreeStrategy = s, IntraOpThreads = threads, TreeLowering = lowering });
        var feeds = Batches(x, rows).Select(b => new Dictionary<string, LoomValue> { ["features"] = Tensor.FromArray(b, rows, Features) }).ToArray();
        int next = 0;
        return () => session.Run(feeds[next++ % feeds.Length]).Dispose();
    }

    private static unsafe Action LightGbmRunner(LightGbmNative lgbm, float[] x, int rows, int threads)
    {
        string parameters = $"num_threads={threads}";
        if (rows > 1) return () => lgbm.Predict(x, rows, Features, 1, parameters: parameters);
        var result = new double[1];
        int next = 0, count = x.Length / Features;
        return () =>
        {
            fixed (float* px = x)
            fixed (double* pr = result) lgbm.PredictOne(px + (next++ % count) * Features, Features, pr, parameters);
        };
    }

    internal static Action OrtRunner(byte[] onnx, float[] x, int rows, int threads)
    {
        var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL };
        var session = new InferenceSession(onnx, options);
        var inputs = Batches(x, rows).Select(b => new[] { OrtValue.CreateTensorValueFromMemory(b, [rows, Features]) }).ToArray();
        var runOptions = new RunOptions();
        string[] names = ["features"];
        int next = 0;
        return () => session.Run(runOptions, names, inputs[next++ % inputs.Length], session.OutputNames).Dispose();
    }

    public static string ModelText(int trees, int depth, int seed) => SyntheticTrees.ModelText(trees, depth, seed, Features);
}
