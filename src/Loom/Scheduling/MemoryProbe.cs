using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Loom.Scheduling;

/// <summary>
/// How fast one core reads memory: a single-thread streaming read of a buffer a few times the last-level cache (a stage's
/// weights that outgrow it come from memory at this rate, item after item unless batched). Best of a few passes within a
/// time limit: load only slows a read, and the best pass is the machine's own. The buffer is written once first, so its
/// pages are mapped before any pass is timed, and the limit counts the passes only. With the fill inside it (first touches of
/// 96 MiB took 9–800 ms on this VM) often only one pass ran: five probes in a row read 14.4, 40.5, 29.3, 28.9 and 27.0 GB/s;
/// with the limit on the passes alone, 30.6–36.4 GB/s (2026-11-28 12:40).
/// </summary>
internal static class MemoryProbe
{
    /// <summary>Used when no rate was measured (a profile cached before the probe, or a machine too busy to answer in time).</summary>
    public const double AssumedBytesPerSecond = 10e9;

    private const int Passes = 5;
    private static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(40);

    /// <summary>Bytes per second one thread reads from memory; <see cref="AssumedBytesPerSecond"/> when no pass completed.</summary>
    public static double Run(long lastLevelCache)
    {
        // Three times the cache (a cyclic scan larger than an LRU-like cache hits almost never), within 64..192 MiB: at least twice the 32 MiB L3 of a Zen core complex where sysfs names no cache (this VM).
        long bytes = Math.Clamp(3 * lastLevelCache, 64L << 20, 192L << 20);
        var data = GC.AllocateUninitializedArray<float>((int)(bytes / sizeof(float)));
        data.AsSpan().Fill(1f);
        var clock = Stopwatch.StartNew();
        double best = double.MaxValue;
        float sink = 0;
        for (int pass = 0; pass < Passes && (pass == 0 || clock.Elapsed < Limit); pass++)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += Sum(data);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        GC.KeepAlive(sink);
        return best is > 0 and < double.MaxValue ? bytes / best : AssumedBytesPerSecond;
    }

    /// <summary>Sums the buffer with four vector accumulators, so the adds never wait on each other: memory is the limit.</summary>
    private static float Sum(float[] data)
    {
        var v = MemoryMarshal.Cast<float, Vector<float>>(data.AsSpan());
        Vector<float> a = default, b = default, c = default, d = default;
        int i = 0;
        for (; i + 4 <= v.Length; i += 4)
        {
            a += v[i];
            b += v[i + 1];
            c += v[i + 2];
            d += v[i + 3];
        }
        for (; i < v.Length; i++) a += v[i];
        return Vector.Sum(a + b + c + d);
    }
}
