using System.Globalization;
using Loom.Import.LightGbm;
using Loom.Import.Onnx;
using Loom.Lowering.Trees;
using Loom.Tests.Trees;

namespace Loom.Bench;

/// <summary>
/// <c>trees --lowered [--trees ..] [--depth ..] [--batch ..] [--threads ..] [--runs N]</c>: the same synthetic
/// ensembles as the main tree bench, scored by Loom's fused kernel (its pick), by the Hummingbird tensor
/// programs of <see cref="LowerTreeEnsembles"/> run in Loom and in ONNX Runtime, and by ONNX Runtime's own
/// TreeEnsembleRegressor. Lowered GEMM is measured only to depth 4 (Hummingbird uses it to depth 3): at
/// depth 8 its per-call condition and one-hot matrices are T×2^D×N floats, gigabytes at batch 10,000.
/// </summary>
internal static class TreesLoweredBench
{
    private static readonly TreeStrategy[] Lowered = [TreeStrategy.Gemm, TreeStrategy.TreeTraversal, TreeStrategy.PerfectTreeTraversal];

    public static int Run(string[] args)
    {
        int[] trees = [100, 500], depths = [4, 8, 12], batches = [1, 100, 10_000], threads = [1];
        int runs = 3;
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
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        Console.WriteLine($"# rows/s (median of {runs}); lowered = Hummingbird tensor program of standard ops. '-' = not measured (GEMM past depth 4).");
        Console.WriteLine("trees depth batch thr |  loom fused |  loom lowered: gemm        tt       ptt |   ort lowered: gemm        tt       ptt |  ort fused");
        foreach (int t in trees)
            foreach (int d in depths)
            {
                var model = LightGbmImporter.Parse(TreesBench.ModelText(t, d, seed: t * 100 + d), $"synthetic-{t}x{d}");
                var onnx = OnnxExporter.ToBytes(model);
                var strategies = Lowered.Where(s => s != TreeStrategy.Gemm || d <= 4).ToArray();
                var lowered = strategies.ToDictionary(s => s, s => OnnxExporter.ToBytes(LowerTreeEnsembles.Run(model, s)));
                foreach (int b in batches)
                {
                    var x = TreesBench.Data(b == 1 ? TreesBench.Rotation : b, seed: b);
                    foreach (int th in threads)
                    {
                        var engines = new List<(string Name, Action Run)> { ("fused", TreesBench.LoomRunner(onnx, TreeStrategy.Auto, th, x, b)) };
                        foreach (var s in strategies) engines.Add(("loom " + TreesBench.Short(s), TreesBench.LoomRunner(lowered[s], TreeStrategy.Auto, th, x, b)));
                        foreach (var s in strategies) engines.Add(("ort " + TreesBench.Short(s), TreesBench.OrtRunner(lowered[s], x, b, th)));
                        engines.Add(("ort fused", TreesBench.OrtRunner(onnx, x, b, th)));
                        var rates = TreesBench.MeasureRates(engines.Select(e => e.Run).ToArray(), b, runs);
                        string Cell(string name) => engines.FindIndex(e => e.Name == name) is var i and >= 0 ? TreesBench.Fmt(rates[i]) : "-";
                        string Row(string engine) => string.Join(" ", Lowered.Select(s => $"{Cell(engine + " " + TreesBench.Short(s)),9}"));
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{t,5} {d,5} {b,5} {th,3} | {Cell("fused"),11} | {Row("loom"),33} | {Row("ort"),33} | {Cell("ort fused"),10}"));
                    }
                }
            }
        return 0;
    }
}
