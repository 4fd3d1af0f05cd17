using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Scheduling;

/// <summary>
/// How much more arithmetic T threads do at once than one (about T when each has a core to itself), from a few
/// milliseconds of fused multiply-adds. Probing kernels while other processes hold the cores measures them, not the
/// machine: a two-thread profile probed that way here rated two threads 8% faster than one (1.9× on a quiet machine),
/// and every schedule built from it ran branches side by side on one thread each instead of splitting kernels.
/// </summary>
public static class ParallelScalingCheck
{
    /// <summary>FMA throughput of <paramref name="threads"/> threads at once over one thread's (best of two tries each).</summary>
    public static double Measure(int threads, long iterations = 2_000_000)
    {
        if (threads <= 1) return 1;
        Rate(1, iterations / 10); // JIT
        double one = Math.Max(Rate(1, iterations), Rate(1, iterations));
        return Math.Max(Rate(threads, iterations), Rate(threads, iterations)) / one;
    }

    private static double Rate(int threads, long n)
    {
        var clock = Stopwatch.StartNew();
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++) (workers[t] = new Thread(() => GC.KeepAlive(Fma(n, Vector256.Create(1f), Vector256.Create(0.999999f))))).Start();
        foreach (var w in workers) w.Join();
        return threads * n / clock.Elapsed.TotalSeconds;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static Vector256<float> Fma(long n, Vector256<float> x, Vector256<float> y)
    {
        Vector256<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, y, x); a1 = Vector256.FusedMultiplyAdd(a1, y, x);
            a2 = Vector256.FusedMultiplyAdd(a2, y, x); a3 = Vector256.FusedMultiplyAdd(a3, y, x);
            a4 = Vector256.FusedMultiplyAdd(a4, y, x); a5 = Vector256.FusedMultiplyAdd(a5, y, x);
            a6 = Vector256.FusedMultiplyAdd(a6, y, x); a7 = Vector256.FusedMultiplyAdd(a7, y, x);
            a8 = Vector256.FusedMultiplyAdd(a8, y, x); a9 = Vector256.FusedMultiplyAdd(a9, y, x);
            a10 = Vector256.FusedMultiplyAdd(a10, y, x); a11 = Vector256.FusedMultiplyAdd(a11, y, x);
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    }
}
