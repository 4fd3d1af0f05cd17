using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Loom.Runtime;

/// <summary>
/// CPU time, for measuring runs on a shared machine: a time slice lost to another process does not count.
/// The calling thread's (Linux clock_gettime(CLOCK_THREAD_CPUTIME_ID)) when a run uses only it; the whole
/// process's otherwise, divided by the threads the run uses.
/// </summary>
internal static partial class CpuClock
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

    /// <summary>Seconds of CPU: this thread's when <paramref name="threads"/> is 1, else the process's.</summary>
    public static double Now(int threads)
    {
        if (threads == 1 && Thread() is { } t) return t;
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>The calling thread's CPU seconds, or null where the platform has no such clock.</summary>
    public static double? Thread() =>
        Available && ClockGetTime(ClockThreadCpuTime, out var t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : null;
}
