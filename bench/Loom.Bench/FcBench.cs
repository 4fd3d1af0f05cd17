using System.Diagnostics;
using System.Globalization;
using Loom.Kernels.Common;
using Loom.Runtime.Threading;

namespace Loom.Bench;

/// <summary>
/// A fully connected layer whose weights stream from memory (VGG-19's 4096×25088 by default), as Gemm with transB runs it:
/// B packed once, rows of A = the batch. Fastest of --runs calls per row count and thread count, with the GB/s of weights read.
/// Usage: fc [--runs N] [--threads 1,2] [--m 1,2,4,8] [--n 4096] [--k 25088]
/// </summary>
internal static unsafe class FcBench
{
    public static int Run(string[] args)
    {
        int runs = 10, n = 4096, k = 25088;
        int[] threads = [1, 2], ms = [1, 2, 4, 8];
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--m": ms = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--n": n = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--k": k = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
            }
        var w = new float[(long)n * k];
        var rng = new Random(1);
        for (long i = 0; i < w.LongLength; i++) w[i] = (float)(rng.NextDouble() - 0.5);
        GemmPackedB packed;
        fixed (float* pw = w) packed = new GemmPackedB(GemmKernelSet.Current, k, n, pw, k, transposed: true);
        int mMax = ms.Max();
        var a = new float[mMax * k];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() - 0.5);
        var c = new float[mMax * n];
        double gb = 4.0 * n * k / 1e9;
        foreach (int t in threads)
        {
            using var pool = new WorkerPool(t);
            foreach (int m in ms)
            {
                double best = double.MaxValue;
                fixed (float* pa = a, pb = w, pc = c)
                    for (int r = 0; r < runs + 2; r++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        if (m > 1) GemmCore.Multiply(packed.Kernels, m, n, k, new GemmDenseA(pa, k, false, 1), packed.AsOperand(), pc, n, false, pool);
                        else GemmCore.Multiply(m, n, k, 1, pa, k, false, pb, k, true, pc, n, false, pool);
                        double ms1 = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                        if (r >= 2) best = Math.Min(best, ms1);
                    }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"threads {t}  m {m}  {best,8:F2} ms  {gb / (best / 1e3),6:F1} GB/s"));
            }
        }
        GC.KeepAlive(packed);
        return 0;
    }
}
