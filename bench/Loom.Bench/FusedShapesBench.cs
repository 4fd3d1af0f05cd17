using System.Diagnostics;
using Loom.Kernels.Common;

namespace Loom.Bench;

/// <summary>
/// The fused TreeLSTM level's GEMM alone (<see cref="Kernels.Batched.TreeLstmFused"/>'s loop: per block of 32 hidden
/// units, per 8-row tile, the five panels f_l, i, o, u, f_r over their own depth, into an L1 scratch tile; no gates),
/// at level sizes of 8 to 512 rows, then the 8×32 micro-kernel with everything in L1 and the FMA peak, all on thread
/// CPU time: how far the level's GEMM is from the kernel's own ceiling, and that from the core's.
/// Usage: fused-shapes [H]
/// </summary>
internal static unsafe class FusedShapesBench
{
    public static int Run(string[] args)
    {
        int h = args.Length > 0 ? int.Parse(args[0]) : 512;
        var ks = GemmKernelSet.Best;
        var b = GC.AllocateArray<float>(8 * h * h + 16, pinned: true);
        var rng = new Random(1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble();
        var s = GC.AllocateArray<float>(8 * 160 + 16, pinned: true);
        foreach (int m in new[] { 8, 16, 32, 64, 128, 256, 512 })
        {
            int tiles = (m + 7) / 8;
            var a = GC.AllocateArray<float>(tiles * 8 * 2 * h + 16, pinned: true);
            for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble();
            fixed (float* pa0 = a, pb0 = b, ps0 = s)
            {
                nint ap = (nint)GemmScratch.AlignedPointer(a), bp = (nint)GemmScratch.AlignedPointer(b), sp = (nint)GemmScratch.AlignedPointer(s);
                double best = 0;
                for (int rep = 0; rep < 3; rep++)
                    best = Math.Max(best, Rate(2.0 * m * 8 * h * h, () => Level((float*)ap, (float*)bp, (float*)sp, tiles, h, ks)));
                Console.WriteLine($"m {m,4} H {h}: fused level GEMM {best:F1} GFLOP/s");
            }
        }
        foreach (int kc in new[] { 256, 1024 })
        {
            var a = GC.AllocateArray<float>(kc * 8 + 16, pinned: true);
            var bb = GC.AllocateArray<float>(kc * 32 + 16, pinned: true);
            Array.Fill(a, 0.5f);
            Array.Fill(bb, 0.25f);
            fixed (float* x = a, y = bb, z = s)
            {
                nint pa = (nint)GemmScratch.AlignedPointer(a), pb = (nint)GemmScratch.AlignedPointer(bb), pc = (nint)GemmScratch.AlignedPointer(s);
                var kernel = ks.Kernel;
                double best = 0;
                for (int rep = 0; rep < 3; rep++)
                    best = Math.Max(best, Rate(2.0 * 8 * 32 * kc * 1000, () => { for (int i = 0; i < 1000; i++) kernel((float*)pa, (float*)pb, (float*)pc, 32, kc, false, null); }));
                Console.WriteLine($"micro-kernel {ks.Name}, depth {kc}, operands in L1: {best:F1} GFLOP/s");
            }
        }
        var (v512, v256) = PeakBench.Measure(3, cpu: true);
        Console.WriteLine($"FMA peak, one core (thread CPU time): {Math.Max(v512, v256):F1} GFLOP/s");
        return 0;
    }

    private static void Level(float* a, float* b, float* s, int tiles, int h, GemmKernelSet ks)
    {
        var kernel = ks.Kernel;
        long blk = 32L * 8 * h;
        for (int ub = 0; ub < h / 32; ub++)
        {
            float* bb = b + ub * blk;
            for (int t = 0; t < tiles; t++)
            {
                float* at = a + (long)t * 16 * h;
                kernel(at, bb, s, 160, h, false, null);
                kernel(at, bb + 32 * h, s + 32, 160, 2 * h, false, null);
                kernel(at, bb + 32 * 3 * h, s + 64, 160, 2 * h, false, null);
                kernel(at, bb + 32 * 5 * h, s + 96, 160, 2 * h, false, null);
                kernel(at + 8 * h, bb + 32 * 7 * h, s + 128, 160, h, false, null);
            }
        }
    }

    private static double Rate(double flop, Action run)
    {
        long iters = 0;
        var sw = Stopwatch.StartNew();
        double c0 = ThreadCpuClock.NowMs();
        while (sw.ElapsedMilliseconds < 200) { run(); iters++; }
        return flop * iters / (ThreadCpuClock.NowMs() - c0) / 1e6;
    }
}
