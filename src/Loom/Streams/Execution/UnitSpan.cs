using System.Diagnostics;

namespace Loom.Streams.Execution;

/// <summary>
/// Runs one fused unit's work and, when a trace is given, records it as a span on the core's track
/// (<c>loom stream P.str --trace FILE.json</c>). Callers call the work directly when not tracing: the delegate
/// here is made per unit.
/// </summary>
internal static class UnitSpan
{
    public static void Run(RunTrace trace, int core, string what, long unit, Action<long> work)
    {
        long t0 = Stopwatch.GetTimestamp();
        work(unit);
        trace.NameTrack(core, $"core {core}");
        trace.AddSpan($"{what} {unit}", what, core, t0, Stopwatch.GetTimestamp());
    }
}
