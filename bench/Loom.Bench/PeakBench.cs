using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Bench;

/// <summary>
/// FP32 FMA peak of one core: 12 independent accumulators (enough to cover FMA latency × throughput),
/// in a call-free method so they stay in registers, for Vector512 and Vector256. Best of several tries.
/// </summary>
internal static class PeakBench
{
    private const long Iterations = 50_000_000;

    public static int Run(string[] args)
    {
        var (v512, v256) = Measure();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"FMA peak, one core, 12 accumulators\n  Vector512: {(Vector512.IsHardwareAccelerated ? $"{v512:F1} GFLOP/s" : "not accelerated")}\n  Vector256: {v256:F1} GFLOP/s\n  peak: {Math.Max(v512, v256):F1} GFLOP/s"));
        if (Environment.ProcessorCount > 1)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {Environment.ProcessorCount} threads at once: {ParallelScaling(Environment.ProcessorCount):F2}x one thread"));
            Console.WriteLine($"  each thread at once: {string.Join(" / ", PerThread(Environment.ProcessorCount).Select(r => r.ToString("F2", CultureInfo.InvariantCulture) + "x"))} of one alone");
        }
        return 0;
    }

    /// <summary>GFLOP/s with Vector512 (0 when not accelerated) and with Vector256.</summary>
    public static (double V512, double V256) Measure(int tries = 5, bool cpu = false)
    {
        // With cpu, by this thread's CPU time: on a loaded machine, time slices lost to other work do not count.
        Func<double> now = cpu ? ThreadCpuClock.NowMs : () => Stopwatch.GetTimestamp() * 1e3 / Stopwatch.Frequency;
        double best512 = 0, best256 = 0;
        for (int t = 0; t < tries; t++)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                double t0 = now();
                var r = Fma512(Iterations, Vector512.Create(1f), Vector512.Create(0.999999f));
                best512 = Math.Max(best512, Iterations * 12.0 * 16 * 2 / ((now() - t0) / 1e3) / 1e9);
                GC.KeepAlive(r);
            }
            double t1 = now();
            var r2 = Fma256(Iterations, Vector256.Create(1f), Vector256.Create(0.999999f));
            best256 = Math.Max(best256, Iterations * 12.0 * 8 * 2 / ((now() - t1) / 1e3) / 1e9);
            GC.KeepAlive(r2);
        }
        return (best512, best256);
    }

    /// <summary>
    /// FMA throughput of <paramref name="threads"/> threads at once over that of one: about T when each thread has
    /// a core of its own. On a virtual machine the host may at times place two vCPUs on the two hardware threads of
    /// one core, and then two threads do no more FMA work than one, so benchmarks print this beside their 2-thread results.
    /// </summary>
    /// <summary>
    /// Each thread's FMA rate while all run at once, over one thread's alone: tells one slow core (1.00 / 0.50) from two
    /// sharing a physical core (0.75 / 0.75), which the total above cannot.
    /// </summary>
    private static double[] PerThread(int threads, long n = 5_000_000)
    {
        static double Rate(long n)
        {
            long t0 = Stopwatch.GetTimestamp();
            GC.KeepAlive(Loom.Scheduling.ParallelScalingCheck.Fma(n, Vector256.Create(1f), Vector256.Create(0.999999f)));
            return n / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Rate(n / 10);
        double one = Math.Max(Rate(n), Rate(n));
        var rates = new double[threads];
        // One run each from a common start, so the runs overlap (a best of several could pair one thread's run with the other's pause).
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() => { start.SignalAndWait(); rates[t] = Rate(n); })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        return rates.Select(r => r / one).OrderDescending().ToArray();
    }

    public static double ParallelScaling(int threads, long iterations = 5_000_000) => Loom.Scheduling.ParallelScalingCheck.Measure(threads, iterations);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static Vector512<float> Fma512(long n, Vector512<float> x, Vector512<float> y)
    {
        Vector512<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, y, x); a1 = Vector512.FusedMultiplyAdd(a1, y, x);
            a2 = Vector512.FusedMultiplyAdd(a2, y, x); a3 = Vector512.FusedMultiplyAdd(a3, y, x);
            a4 = Vector512.FusedMultiplyAdd(a4, y, x); a5 = Vector512.FusedMultiplyAdd(a5, y, x);
            a6 = Vector512.FusedMultiplyAdd(a6, y, x); a7 = Vector512.FusedMultiplyAdd(a7, y, x);
            a8 = Vector512.FusedMultiplyAdd(a8, y, x); a9 = Vector512.FusedMultiplyAdd(a9, y, x);
            a10 = Vector512.FusedMultiplyAdd(a10, y, x); a11 = Vector512.FusedMultiplyAdd(a11, y, x);
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    }

    private static Vector256<float> Fma256(long n, Vector256<float> x, Vector256<float> y) => Loom.Scheduling.ParallelScalingCheck.Fma(n, x, y);
}
