using Loom.Runtime;

namespace Loom.Bench;

/// <summary>
/// CPU time of the calling thread (Loom's <see cref="CpuClock"/>, Linux clock_gettime(CLOCK_THREAD_CPUTIME_ID)):
/// on a shared machine a time slice lost to another process does not count, so single-threaded runs compare
/// stably. Meaningless when a runtime uses other threads, so --cpu is only honoured with --threads 1.
/// </summary>
internal static class ThreadCpuClock
{
    public static bool Available => CpuClock.Available;

    /// <summary>CPU time this thread has run, in milliseconds.</summary>
    public static double NowMs() => CpuClock.Now(1) * 1e3;
}
