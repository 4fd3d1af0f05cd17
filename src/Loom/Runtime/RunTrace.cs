using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Loom;

/// <summary>
/// What one run did, node by node: which worker ran each node, with how many intra-op threads, when
/// it started and how long it took. Pass one to <see cref="LoomSession.Run(IReadOnlyDictionary{string, LoomValue}, RunTrace, CancellationToken)"/>;
/// <see cref="WriteChromeJson"/> writes it for chrome://tracing or ui.perfetto.dev, one track per worker.
/// </summary>
public sealed class RunTrace
{
    public readonly record struct Event(string Node, string OpType, int Worker, int Threads, double StartMicroseconds, double DurationMicroseconds)
    {
        /// <summary>
        /// CPU time of the thread that ran the node, over the node (NaN where the platform has no thread clock): with
        /// one intra-op thread the node's whole cost, untouched by other processes taking the core meanwhile.
        /// </summary>
        public double CpuMicroseconds { get; init; } = double.NaN;
    }

    private readonly List<Event> _events = new();
    private readonly Lock _lock = new();
    private long _origin = Stopwatch.GetTimestamp();

    /// <summary>Events in the order they ended.</summary>
    public IReadOnlyList<Event> Events
    {
        get { lock (_lock) return _events.ToArray(); }
    }

    /// <summary>Forgets earlier events and starts the clock again (each run starts at time zero).</summary>
    internal void Begin()
    {
        lock (_lock) { _events.Clear(); Dropped = 0; }
        _origin = Stopwatch.GetTimestamp();
    }

    internal void Add(IR.Node node, int worker, int threads, long startTicks, long endTicks, double cpuSeconds = double.NaN)
    {
        double us = 1e6 / Stopwatch.Frequency;
        var e = new Event(LabelOf(node), node.OpType, worker, threads,
            (startTicks - _origin) * us, (endTicks - startTicks) * us) { CpuMicroseconds = cpuSeconds * 1e6 };
        lock (_lock) _events.Add(e);
    }

    /// <summary>
    /// A span of other work than a node (an item through a stream stage): <paramref name="label"/> in
    /// <paramref name="category"/> on track <paramref name="worker"/>, which <see cref="NameTrack"/> may name.
    /// </summary>
    internal void AddSpan(string label, string category, int worker, long startTicks, long endTicks)
    {
        double us = 1e6 / Stopwatch.Frequency;
        var e = new Event(label, category, worker, 1, (startTicks - _origin) * us, (endTicks - startTicks) * us);
        lock (_lock)
        {
            if (_events.Count < MaxSpans) _events.Add(e);
            else Dropped++;
        }
    }

    /// <summary>Spans beyond this many are counted in <see cref="Dropped"/>, not kept (a long stream run makes millions).</summary>
    public const int MaxSpans = 500_000;

    /// <summary>Spans not kept because the trace held <see cref="MaxSpans"/> already.</summary>
    public long Dropped { get; private set; }

    private readonly Dictionary<int, string> _trackNames = new();

    /// <summary>Names track <paramref name="worker"/> in the written trace (default "worker N").</summary>
    internal void NameTrack(int worker, string name)
    {
        lock (_lock) _trackNames.TryAdd(worker, name);
    }

    /// <summary>How traces and schedules name a node: its name, else its first output.</summary>
    internal static string LabelOf(IR.Node node) => node.Name.Length > 0 ? node.Name : node.Outputs.FirstOrDefault() ?? "";

    /// <summary>The trace in Chrome's Trace Event Format: complete events ("X"), one thread per worker.</summary>
    public string ToChromeJson()
    {
        var sb = new StringBuilder("{\"traceEvents\":[\n");
        var events = Events;
        var workers = events.Select(e => e.Worker).Distinct().Order();
        bool first = true;
        void Item(string json)
        {
            if (!first) sb.Append(",\n");
            sb.Append(json);
            first = false;
        }
        foreach (var w in workers)
        {
            string track;
            lock (_lock) track = _trackNames.GetValueOrDefault(w) ?? $"worker {w}";
            Item($"{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{w},\"args\":{{\"name\":{Quote(track)}}}}}");
        }
        foreach (var e in events)
            Item(string.Create(CultureInfo.InvariantCulture,
                $"{{\"name\":{Quote(e.Node)},\"cat\":{Quote(e.OpType)},\"ph\":\"X\",\"pid\":1,\"tid\":{e.Worker},\"ts\":{e.StartMicroseconds:F3},\"dur\":{e.DurationMicroseconds:F3},\"args\":{{\"threads\":{e.Threads}}}}}"));
        sb.Append("\n],\"displayTimeUnit\":\"ms\"}\n");
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToChromeJson"/> to <paramref name="path"/>: the whole file or, on failure, none.</summary>
    public void WriteChromeJson(string path) => IO.AtomicFile.WriteAllText(path, ToChromeJson());

    private static string Quote(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
