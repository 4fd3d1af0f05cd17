using System.Diagnostics;
using System.Globalization;
using Loom.Kernels.Common;
using Loom.Runtime.Threading;

namespace Loom.Bench;

/// <summary>
/// Winograd layers alone, tile-block split against the whole-plane split (<see cref="ConvWinogradSplit"/>) at 1 and 2 threads,
/// the configurations interleaved run by run (so a busy moment of the shared machine hits them all) and each one's fastest
/// and median run printed. Usage: Loom.Bench wino-split [--runs N] [--cold W] [C,K,H ...] (default: SqueezeNet's four 3×3 shapes).
/// --cold W rotates W copies of the weights run by run, so their Winograd-domain form comes from L3 as in a model, where
/// every layer's weights have left the core's L2 by the time it runs again (alone, half of a 13×13 layer's 1 MB fits it).
/// "cpu median": thread CPU time per run, at two threads both threads' CPU inside parts (only with LOOM_POOL_STATS=1, else 0),
/// which other processes on the machine do not inflate as they do wall time.
/// </summary>
internal static unsafe class WinogradSplitBench
{
    public static int Run(string[] args)
    {
        int runs = 300, cold = 1;
        var shapes = new List<(int C, int K, int H)>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--runs") { runs = int.Parse(args[++i], CultureInfo.InvariantCulture); continue; }
            if (args[i] == "--cold") { cold = int.Parse(args[++i], CultureInfo.InvariantCulture); continue; }
            var p = args[i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            shapes.Add((p[0], p[1], p[2]));
        }
        if (shapes.Count == 0) shapes.AddRange([(16, 64, 55), (32, 128, 27), (48, 192, 13), (64, 256, 13)]);
        using var pool2 = new WorkerPool(2);
        foreach (var (c, k, h) in shapes) Layer(c, k, h, runs, cold, pool2);
        return 0;
    }

    private static void Layer(int c, int k, int h, int runs, int cold, WorkerPool pool2)
    {
        int[] xs = [1, c, h, h], ws = [k, c, 3, 3];
        var attrs = new Loom.IR.Node("Conv", ["x", "w"], ["y"], [Loom.IR.Attribute.Ints("pads", [1, 1, 1, 1])]);
        var a = ConvAttributes.Parse(attrs, m => new InvalidOperationException(m));
        var problem = ConvProblem.Create(a, xs, ws, m => new InvalidOperationException(m));
        var g = new Conv3D(problem.Geometry);
        var rnd = new Random(1);
        var x = Enumerable.Range(0, c * h * h).Select(_ => (float)rnd.NextDouble()).ToArray();
        var w = Enumerable.Range(0, k * c * 9).Select(_ => (float)(rnd.NextDouble() - 0.5) * 0.1f).ToArray();
        var b = Enumerable.Range(0, k).Select(_ => (float)rnd.NextDouble()).ToArray();
        var y = new float[k * g.OH * g.OW];
        var ks = GemmKernelSet.Best;
        bool f4 = ConvWinograd4.Worth(problem, g);
        fixed (float* px = x, pw = w, pb = b, py = y)
        {
            var w2 = new ConvWinogradWeights<WinogradF2>?[cold];
            var w4 = new ConvWinogradWeights<WinogradF4>?[cold];
            for (int i = 0; i < cold; i++)
                if (f4) w4[i] = new ConvWinogradWeights<WinogradF4>(ks, k, c, pw);
                else w2[i] = new ConvWinogradWeights<WinogradF2>(ks, k, c, pw);
            int copy = 0;
            var buffers = new ConvBuffers(px, pw, pb, null, py);
            var relu = new FusedActivation(ActivationKind.Relu);
            var configs = new List<(string Name, Action Run, WorkerPool? Pool)>();
            void Add(string name, WorkerPool? pool, bool whole, int? slices = null, bool? rows = false) => configs.Add((name, () =>
            {
                copy = (copy + 1) % cold;
                if (f4) ConvWinograd<WinogradF4>.Run(problem, g, w4[copy]!, buffers, relu, pool, whole, slices, rows);
                else ConvWinograd<WinogradF2>.Run(problem, g, w2[copy]!, buffers, relu, pool, whole, slices, rows);
            }, pool));
            Add("tile blocks, 1 thread", null, false);
            Add("whole plane, 1 thread", null, true);
            Add("tile blocks, 2 threads", pool2, false);
            Add("tile blocks unsliced, 2 thr", pool2, false, 1);
            Add("whole plane, 2 threads", pool2, true);
            // The whole plane with the tiles as GEMM rows (ConvWinogradTransposed), where it is worth it for the kernel set.
            Add("whole, tile rows, 1 thread", null, true, rows: null);
            Add("whole, tile rows, 2 threads", pool2, true, rows: null);
            var times = configs.Select(_ => new List<double>()).ToArray();
            var cpu = configs.Select(_ => new List<double>()).ToArray();
            for (int r = 0; r < runs + 20; r++)
                for (int i = 0; i < configs.Count; i++)
                {
                    var pool = configs[i].Pool;
                    double c0 = CpuMs(pool);
                    long t0 = Stopwatch.GetTimestamp();
                    configs[i].Run();
                    if (r < 20) continue;
                    times[i].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    cpu[i].Add(CpuMs(pool) - c0);
                }
            Console.WriteLine($"{c}->{k} at {h}x{h} ({(f4 ? "F4" : "F2")}){(cold > 1 ? $", {cold} weight copies in turn" : "")}");
            double best1 = times[0].Min();
            for (int i = 0; i < configs.Count; i++)
            {
                var s = times[i].Order().ToArray();
                var u = cpu[i].Order().ToArray();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {configs[i].Name,-28} min {s[0],7:F3}  median {s[s.Length / 2],7:F3}  scaling(min) {best1 / s[0],5:F2}  cpu median {u[u.Length / 2],7:F3}"));
            }
        }
    }

    /// <summary>CPU ms so far: the calling thread's alone, or, for a pool, both threads' inside its parts.</summary>
    private static double CpuMs(WorkerPool? pool) => pool == null ? ThreadCpuClock.NowMs() : pool.Stats.Totals().PartCpuUs / 1e3;
}
