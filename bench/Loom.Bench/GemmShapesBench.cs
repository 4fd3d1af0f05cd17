using System.Diagnostics;
using Loom.Kernels.Batched;
using Loom.Kernels.Common;

namespace Loom.Bench;

/// <summary>GFLOP/s of the batched GEMM at TreeLSTM level shapes (m rows, k = H, n = 4H), to see how far from peak the kernel runs (thread CPU time).</summary>
internal static unsafe class GemmShapesBench
{
    public static int Run(string[] args)
    {
        int h = args.Length > 0 ? int.Parse(args[0]) : 512;
        foreach (int m in new[] { 1, 4, 8, 16, 32, 64, 128, 256, 512 })
        {
            int k = h, n = 4 * h;
            var a = GC.AllocateArray<float>(m * 2 * k, pinned: true);
            var b = new float[k * n];
            var c = GC.AllocateArray<float>(m * 5 * h, pinned: true);
            var rng = new Random(1);
            for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble();
            for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble();
            GemmPackedB pb;
            fixed (float* p = b) pb = new GemmPackedB(GemmKernelSet.Best, k, n, p, n, false);
            fixed (float* pa = a, pc = c)
            {
                // Thread CPU time, so time slices lost to other processes on a shared machine do not count; the batched
                // path (StridedGemm: a few rows stream the packed panels directly) against GemmCore alone, alternating.
                double batched = 0, core = 0;
                nint ap = (nint)pa, cp = (nint)pc;
                for (int rep = 0; rep < 3; rep++)
                {
                    batched = Math.Max(batched, Rate(m, n, k, () => StridedGemm.Multiply(m, n, k, (float*)ap, 2 * k, pb, (float*)cp, 5 * h, false)));
                    core = Math.Max(core, Rate(m, n, k, () => GemmCore.Multiply(pb.Kernels, m, n, k, new GemmDenseA((float*)ap, 2 * k, false, 1f), pb.AsOperand(), (float*)cp, 5 * h, false)));
                }
                Console.WriteLine($"m {m,4} k {k} n {n}: {batched:F1} GFLOP/s (GemmCore {core:F1})");
            }
        }
        return 0;
    }

    private static double Rate(int m, int n, int k, Action run)
    {
        long iters = 0;
        var sw = Stopwatch.StartNew();
        double c0 = ThreadCpuClock.NowMs();
        while (sw.ElapsedMilliseconds < 150) { run(); iters++; }
        return 2.0 * m * n * k * iters / (ThreadCpuClock.NowMs() - c0) / 1e6;
    }
}
