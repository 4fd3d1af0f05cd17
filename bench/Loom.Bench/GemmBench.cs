using System.Globalization;
using Loom.Kernels.Common;
using Loom.Runtime.Threading;

namespace Loom.Bench;

/// <summary>
/// SGEMM throughput of <see cref="GemmCore"/> (dense row-major operands, packed on every call as in a
/// MatMul of two activations) on square sizes and on the GEMM shapes of ResNet-50's convolutions
/// (M output channels × N positions × K = channels·kernel), at 1 thread and at --threads T.
/// </summary>
internal static unsafe class GemmBench
{
    private static readonly (string Name, int M, int N, int K)[] Shapes =
    [
        ("square 256", 256, 256, 256), ("square 512", 512, 512, 512), ("square 1024", 1024, 1024, 1024), ("square 2048", 2048, 2048, 2048),
        ("resnet conv1 7x7", 64, 12544, 147), ("resnet res2 1x1 64->256", 256, 3136, 64), ("resnet res2 3x3 64", 64, 3136, 576),
        ("resnet res3 3x3 128", 128, 784, 1152), ("resnet res4 1x1 1024->256", 256, 196, 1024), ("resnet res4 3x3 256", 256, 196, 2304),
        ("resnet res5 3x3 512", 512, 49, 4608), ("resnet res5 1x1 512->2048", 2048, 49, 512),
    ];

    public static int Run(string[] args)
    {
        var o = BenchOptions.Parse(args);
        double peak = Math.Max(PeakBench.Measure(3).V512, PeakBench.Measure(1).V256);
        var ks = GemmKernelSet.Current;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kernel set {ks.Name}, peak {peak:F1} GFLOP/s per core"));
        Console.WriteLine($"{"shape",-28}{"M",6}{"N",7}{"K",6}{"1 thr GF/s",12}{"% peak",8}{$"{o.Threads} thr GF/s",12}{"% peak",8}");
        using var pool = new WorkerPool(o.Threads);
        foreach (var (name, m, n, k) in Shapes)
        {
            if (o.Positional.Count > 0 && !o.Positional.Any(p => name.Contains(p, StringComparison.Ordinal))) continue;
            double g1 = Gflops(m, n, k, null), gt = Gflops(m, n, k, pool);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-28}{m,6}{n,7}{k,6}{g1,12:F1}{100 * g1 / peak,7:F0}%{gt,12:F1}{100 * gt / (peak * o.Threads),7:F0}%"));
        }
        return 0;
    }

    private static double Gflops(int m, int n, int k, WorkerPool? pool)
    {
        var a = Random(m * k, 1);
        var b = Random(k * n, 2);
        var c = GC.AllocateUninitializedArray<float>(m * n, pinned: true);
        double flops = 2.0 * m * n * k;
        int runs = (int)Math.Clamp(2e10 / flops, 5, 200);
        fixed (float* pa = a, pb = b, pc = c)
        {
            float* ta = pa, tb = pb, tc = pc;
            double ms = BenchOptions.MedianMs(() => GemmCore.Multiply(m, n, k, 1, ta, k, false, tb, n, false, tc, n, false, pool), runs);
            return flops / ms / 1e6;
        }
    }

    private static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        var a = GC.AllocateUninitializedArray<float>(n, pinned: true);
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }
}
