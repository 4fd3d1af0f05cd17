using Loom.Scheduling;

namespace Loom.Tests.Scheduling;

/// <summary>The memory probe reads a buffer larger than the last-level cache; it runs alone (the "timing" collection) so other tests' loads do not slow it.</summary>
[Collection("timing")]
public sealed class MemoryProbeTests
{
    [Fact]
    public void ReadsAPlausibleRateWithinItsTimeLimit()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double rate = MemoryProbe.Run(8L << 20);
        double ms = clock.Elapsed.TotalMilliseconds;
        // One core reads main memory at a few GB/s (an old laptop) to a few tens (a server core); DRAM at 1 TB/s from one core
        // would mean the buffer sat in cache, under 0.5 GB/s a broken loop.
        Assert.InRange(rate, 0.5e9, 1e12);
        Assert.NotEqual(MemoryProbe.AssumedBytesPerSecond, rate); // measured, not the fallback
        Assert.True(ms < 2000, $"the probe took {ms:F0} ms"); // ~30 ms quiet; loose for a loaded CI machine
    }
}
