using System.Diagnostics;
using System.Text.Json;

namespace Loom.Dynamic;

/// <summary>
/// The batches of a forward on a timeline: one event per batched kernel call (its operation, the number of
/// nodes or rows, start and duration), written as Chrome trace JSON (chrome://tracing, Perfetto).
/// </summary>
public sealed class BatchTrace
{
    private readonly List<(string Name, long Start, long End, int Rows)> _events = [];
    private readonly bool _threadCpu;
    private readonly long _origin;

    /// <param name="threadCpu">Time batches by the calling thread's CPU time instead of the wall clock, so a profile
    /// taken on a shared machine does not count time slices lost to other processes.</param>
    public BatchTrace(bool threadCpu = false)
    {
        _threadCpu = threadCpu && Runtime.CpuClock.Available;
        _origin = Now();
    }

    /// <summary>A timestamp for <see cref="Add"/>, in <see cref="TicksPerSecond"/>.</summary>
    public long Now() => _threadCpu ? (long)(Runtime.CpuClock.Now(1) * 1e9) : Stopwatch.GetTimestamp();

    public double TicksPerSecond => _threadCpu ? 1e9 : Stopwatch.Frequency;

    public int Count => _events.Count;

    /// <summary>The recorded batches (Stopwatch timestamps), for profiles that aggregate many forwards.</summary>
    public IReadOnlyList<(string Name, long Start, long End, int Rows)> Events => _events;

    public void Add(string name, long start, long end, int rows) => _events.Add((name, start, end, rows));

    public void WriteChromeJson(string path)
    {
        double us = 1e6 / TicksPerSecond;
        var events = _events.Select(e => new Dictionary<string, object>
        {
            ["name"] = e.Name, ["ph"] = "X", ["pid"] = 1, ["tid"] = 1,
            ["ts"] = (e.Start - _origin) * us, ["dur"] = Math.Max(0, e.End - e.Start) * us,
            ["args"] = new Dictionary<string, object> { ["rows"] = e.Rows },
        });
        IO.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object> { ["traceEvents"] = events.ToList() }));
    }
}
