using System.Runtime.InteropServices;
using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Kernels.Common;

namespace Loom.Bench;

/// <summary>
/// <c>offset-kernel [K] [STRIDE] [PANELS]</c>: the AVX-512 offset micro-kernels' GFLOP/s, 8×32 against 8×48, on one thread with one
/// A panel of depth K and B rows STRIDE floats apart (a pointwise layer's planes), cycling over PANELS column panels so that B comes
/// from L1 or L2 as in a layer's column block. Best of five tries, each ~2 GFLOP.
/// </summary>
internal static unsafe class OffsetKernelBench
{
    public static int Run(string[] args)
    {
        if (!Avx512F.IsSupported)
        {
            Console.WriteLine("offset-kernel: needs AVX-512");
            return 1;
        }
        int k = args.Length > 0 ? int.Parse(args[0]) : 64;
        int stride = args.Length > 1 ? int.Parse(args[1]) : 32;
        int panels = args.Length > 2 ? int.Parse(args[2]) : 1;
        float* a = (float*)NativeMemory.AlignedAlloc((nuint)(8 * k * 4), 64);
        long bLen = (long)k * stride + 64 * panels + 64;
        float* b = (float*)NativeMemory.AlignedAlloc((nuint)(bLen * 4), 64);
        float* c = (float*)NativeMemory.AlignedAlloc((nuint)(8 * 64 * panels * 4), 64);
        int* offs = (int*)NativeMemory.AlignedAlloc((nuint)(k * 4), 64);
        for (int i = 0; i < 8 * k; i++) a[i] = 1e-3f;
        for (long i = 0; i < bLen; i++) b[i] = 1e-3f;
        for (int p = 0; p < k; p++) offs[p] = p * stride;
        foreach (var name in new[] { "8x32", "8x48", "8x32", "8x48" })
        {
            long iters = 2_000_000_000L / (k * 8 * 32);
            double best = 0;
            for (int t = 0; t < 5; t++)
            {
                var sw = Stopwatch.StartNew();
                long flops = 0;
                for (long it = 0; it < iters; it++)
                    for (int j = 0; j < panels; j++)
                    {
                        if (name == "8x32") { GemmOffsetKernels.Avx512x8x32<PrefetchWeights>(a, b + j * 32, offs, c + j * 32, 64 * panels, k, null); flops += 2L * 8 * 32 * k; }
                        else { GemmOffsetKernels48.Avx512x8x48<PrefetchWeights>(a, b + j * 48, offs, c + j * 48, 64 * panels, k, null); flops += 2L * 8 * 48 * k; }
                    }
                best = Math.Max(best, flops / sw.Elapsed.TotalSeconds / 1e9);
            }
            Console.WriteLine($"{name} k={k} stride={stride} panels={panels}: {best:F1} GFLOP/s");
        }
        NativeMemory.AlignedFree(a);
        NativeMemory.AlignedFree(b);
        NativeMemory.AlignedFree(c);
        NativeMemory.AlignedFree(offs);
        return 0;
    }
}
