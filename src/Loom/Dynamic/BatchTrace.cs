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
    private readonly long _origin = Stopwatch.GetTimestamp();

    public int Count => _events.Count;

    public void Add(string name, long start, long end, int rows) => _events.Add((name, start, end, rows));

    public void WriteChromeJson(string path)
    {
        double us = 1e6 / Stopwatch.Frequency;
        var events = _events.Select(e => new Dictionary<string, object>
        {
            ["name"] = e.Name, ["ph"] = "X", ["pid"] = 1, ["tid"] = 1,
            ["ts"] = (e.Start - _origin) * us, ["dur"] = Math.Max(0, e.End - e.Start) * us,
            ["args"] = new Dictionary<string, object> { ["rows"] = e.Rows },
        });
        File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object> { ["traceEvents"] = events.ToList() }));
    }
}
