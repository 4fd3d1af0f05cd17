using System.Runtime.InteropServices;

namespace Loom.Bench;

/// <summary>
/// CPU time of the calling thread (Linux clock_gettime(CLOCK_THREAD_CPUTIME_ID), nanosecond accounting): on a
/// shared machine a time slice lost to another process does not count, so single-threaded runs compare
/// stably. Meaningless when a runtime uses other threads, so --cpu is only honoured with --threads 1.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds, Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static bool Available => OperatingSystem.IsLinux();

    /// <summary>CPU time this thread has run, in milliseconds.</summary>
    public static double NowMs() => ClockGetTime(ClockThreadCpuTime, out var t) == 0 ? t.Seconds * 1e3 + t.Nanoseconds / 1e6 : double.NaN;
}
