using System.Diagnostics;
using Loom.Kernels.Batched;

namespace Loom.Bench;

/// <summary>Nanoseconds per element of the fused TreeLSTM gate pass (5 activations, cell update, tanh).</summary>
internal static unsafe class GatesBench
{
    public static int Run(string[] args)
    {
        int h = args.Length > 0 ? int.Parse(args[0]) : 128, rows = 1024;
        var g = GC.AllocateArray<float>(rows * 5 * h, pinned: true);
        var cx = GC.AllocateArray<float>(rows * 2 * h, pinned: true);
        var hc = GC.AllocateArray<float>(rows * 2 * h, pinned: true);
        var bias = GC.AllocateArray<float>(5 * h, pinned: true);
        var rng = new Random(1);
        for (int i = 0; i < g.Length; i++) g[i] = (float)(rng.NextDouble() * 8 - 4);
        for (int i = 0; i < cx.Length; i++) cx[i] = (float)(rng.NextDouble() * 2 - 1);
        fixed (float* pg = g, pcx = cx, phc = hc, pb = bias)
            for (int rep = 0; rep < 3; rep++)
            {
                long iters = 0;
                var sw = Stopwatch.StartNew();
                double c0 = ThreadCpuClock.NowMs();
                while (sw.ElapsedMilliseconds < 300)
                {
                    for (int r = 0; r < rows; r++)
                        TreeLstmGates.Node(h, pg + r * 5 * h, pb, pcx + r * 2 * h, phc + r * 2 * h, phc + r * 2 * h + h);
                    iters++;
                }
                Console.WriteLine($"gates H {h}: {(ThreadCpuClock.NowMs() - c0) * 1e6 / (iters * rows * h):F2} ns per element (thread CPU time)");
                // The fused kernel's shape: 32 units of 8 rows from an L1 scratch tile (gate rows 160 wide).
                iters = 0;
                sw.Restart();
                c0 = ThreadCpuClock.NowMs();
                while (sw.ElapsedMilliseconds < 300)
                {
                    for (int r = 0; r < 8; r++)
                        TreeLstmGates.Node(32, pg + r * 160, pb, pcx + r * 2 * h, pcx + r * 2 * h + h, phc + r * 2 * h, phc + r * 2 * h + h);
                    iters++;
                }
                Console.WriteLine($"gates, 8 rows x 32 units in L1 (the fused kernel's tile): {(ThreadCpuClock.NowMs() - c0) * 1e6 / (iters * 8 * 32):F2} ns per element");
                iters = 0;
                sw.Restart();
                var tmp = new float[5 * h];
                while (sw.ElapsedMilliseconds < 300)
                {
                    for (int r = 0; r < rows; r++) System.Numerics.Tensors.TensorPrimitives.Sigmoid(g.AsSpan(r * 5 * h, 5 * h), tmp);
                    iters++;
                }
                Console.WriteLine($"TensorPrimitives.Sigmoid over 5H: {sw.Elapsed.TotalNanoseconds / (iters * rows * h):F2} ns per element (x5 sigmoids), Vector512 accelerated {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
            }
        return 0;
    }
}
