using Loom.IR;
using Loom.Scheduling;

namespace Loom.Streams.Models;

/// <summary>
/// A model's optimized graph seen as a line of nodes for cutting into pipeline stages — its topological order,
/// except that nodes computing from weights alone (ConstantOfShape and the like that folding left, because
/// their results are big) move to just before their first reader, so a cut never carries a weight across: each node's predicted time on one thread and the weights it reads, and at every gap between two
/// neighbours the tensors a cut there would carry from one stage to the next (values made before the gap, or
/// model inputs, that are read after it). Stages are contiguous ranges of the line, so every cut is valid.
/// </summary>
internal sealed class CutProfile
{
    private readonly IR.Graph _graph;
    private readonly int[] _producer, _lastReader; // by value index; -1 = a model input
    private readonly Dictionary<string, int> _value = new();
    private readonly List<string> _names = [];
    private readonly long[] _valueBytes;
    private readonly long[] _crossBytes; // [c]: bytes crossing the gap before node c
    private readonly int[] _crossCount;
    private readonly double[] _prefix; // [c]: seconds of nodes 0..c-1

    public CostModel Cost { get; }
    public int Count => _graph.Nodes.Length;
    public double[] Seconds { get; }
    /// <summary>Initializer names each node reads (weights), for the stage's cache footprint.</summary>
    private readonly string[][] _weights;

    /// <param name="graph">The optimized graph (symbolic dims), whose slices become stage models.</param>
    /// <param name="concrete">The same graph with every shape concrete (inference at the planned input sizes), for costs and bytes.</param>
    public CutProfile(IR.Graph graph, IR.Graph concrete, CostModel cost)
    {
        if (concrete.Nodes.Length != graph.Nodes.Length) throw new StreamException("internal: the concrete graph's nodes differ from the optimized graph's");
        _graph = graph;
        Cost = cost;
        int n = graph.Nodes.Length;
        (Order, var weightOnly) = LineOrder(graph);
        _weightOnlyAt = Order.Select(k => weightOnly[k]).ToArray();
        Line = Order.Select(k => graph.Nodes[k]).ToArray();
        var concreteLine = Order.Select(k => concrete.Nodes[k]).ToArray();
        foreach (var i in graph.Inputs) if (!graph.Initializers.ContainsKey(i.Name)) Add(i.Name, -1);
        for (int k = 0; k < n; k++)
            foreach (var o in Line[k].Outputs) if (o.Length > 0) Add(o, k);
        _producer = new int[_names.Count];
        _lastReader = new int[_names.Count];
        Array.Fill(_lastReader, int.MinValue);
        for (int v = 0; v < _names.Count; v++) _producer[v] = _producerOf[_names[v]];
        _weights = new string[n][];
        Seconds = new double[n];
        _prefix = new double[n + 1];
        for (int k = 0; k < n; k++)
        {
            var node = Line[k];
            var used = TopologicalSort.UsedNames(node).Distinct().ToList();
            foreach (var u in used)
                if (_value.TryGetValue(u, out var v)) _lastReader[v] = Math.Max(_lastReader[v], k);
            _weights[k] = used.Where(graph.Initializers.ContainsKey).ToArray();
            Seconds[k] = cost.Node(concreteLine[k], concrete, _ => null).Seconds;
            _prefix[k + 1] = _prefix[k] + Seconds[k];
        }
        _valueBytes = _names.Select(v => CostModel.BytesOf(v, concrete, _ => null)).ToArray();
        // A value crosses every gap after its producer up to its last reader: add at one end, remove at the other.
        _crossBytes = new long[n + 1];
        _crossCount = new int[n + 1];
        var dBytes = new long[n + 2];
        var dCount = new int[n + 2];
        for (int v = 0; v < _names.Count; v++)
        {
            if (_lastReader[v] == int.MinValue) continue; // read by nothing (an output only): it never travels
            if (IsWeightOnly(v)) continue; // a stage reading it makes its own (see Recomputed)
            int from = _producer[v] + 1, to = _lastReader[v] + 1;
            if (from >= to) continue;
            dBytes[from] += _valueBytes[v]; dBytes[to] -= _valueBytes[v];
            dCount[from]++; dCount[to]--;
        }
        for (int c = 0; c <= n; c++)
        {
            _crossBytes[c] = (c > 0 ? _crossBytes[c - 1] : 0) + dBytes[c];
            _crossCount[c] = (c > 0 ? _crossCount[c - 1] : 0) + dCount[c];
        }
    }

    private readonly Dictionary<string, int> _producerOf = new();
    private readonly bool[] _weightOnlyAt; // by line position: computes from weights alone

    private bool IsWeightOnly(int v) => _producer[v] >= 0 && _weightOnlyAt[_producer[v]];

    /// <summary>
    /// Line positions before <paramref name="first"/> of weight-only nodes whose values nodes [first, end) read
    /// (and the weight-only nodes those read): a stage makes such values again rather than receive them — a
    /// weight shared by layers in different stages (common-subexpression elimination merges equal ones) would
    /// otherwise cross every cut between its readers.
    /// </summary>
    public List<int> Recomputed(int first, int end)
    {
        var need = new SortedSet<int>();
        var stack = new Stack<int>(Enumerable.Range(first, end - first));
        while (stack.Count > 0)
            foreach (var u in TopologicalSort.UsedNames(Line[stack.Pop()]))
                if (_value.TryGetValue(u, out var v) && IsWeightOnly(v) && _producer[v] < first && need.Add(_producer[v]))
                    stack.Push(_producer[v]);
        return [.. need];
    }

    /// <summary>The graph's nodes in line order; <see cref="Order"/>[k] is line node k's index in the graph.</summary>
    public Node[] Line { get; }
    public int[] Order { get; }

    /// <summary>
    /// Line order: a node that reads no model input, directly or through others, sorts with its first reader
    /// (before it, keeping graph order among equals); every other node keeps its place. Still topological:
    /// such a node's own producers are weight-only too and sort with the same reader, before it.
    /// </summary>
    private static (int[] Order, bool[] WeightOnly) LineOrder(IR.Graph g)
    {
        int n = g.Nodes.Length;
        var producer = new Dictionary<string, int>();
        for (int k = 0; k < n; k++) foreach (var o in g.Nodes[k].Outputs) if (o.Length > 0) producer[o] = k;
        var inputs = g.Inputs.Where(i => !g.Initializers.ContainsKey(i.Name)).Select(i => i.Name).ToHashSet();
        var dependsOnInput = new bool[n];
        var readers = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        for (int k = 0; k < n; k++)
            foreach (var u in TopologicalSort.UsedNames(g.Nodes[k]))
            {
                if (inputs.Contains(u)) dependsOnInput[k] = true;
                else if (producer.TryGetValue(u, out var p) && p != k)
                {
                    dependsOnInput[k] |= dependsOnInput[p];
                    readers[p].Add(k);
                }
            }
        var key = new int[n];
        for (int k = n - 1; k >= 0; k--)
            key[k] = dependsOnInput[k] || readers[k].Count == 0 ? k : readers[k].Min(r => key[r]);
        return (Enumerable.Range(0, n).OrderBy(k => key[k]).ThenBy(k => k).ToArray(), dependsOnInput.Select(d => !d).ToArray());
    }

    private void Add(string name, int producer)
    {
        if (_value.ContainsKey(name)) return;
        _value[name] = _names.Count;
        _names.Add(name);
        _producerOf[name] = producer;
    }

    /// <summary>Line positions [First, Last] no cut may separate (a stateful stage: <see cref="StreamFeedback.Span"/>), or null.</summary>
    public (int First, int Last)? Together { get; set; }

    /// <summary>Whether a stage may start at line position <paramref name="gap"/> (0 and <see cref="Count"/> always).</summary>
    public bool CanCutAt(int gap) => Together is not { } t || gap <= t.First || gap > t.Last;

    /// <summary>The most stages the line can be cut into: one more than the gaps a cut may use.</summary>
    public int MaxStages => 1 + Enumerable.Range(1, Math.Max(0, Count - 1)).Count(CanCutAt);

    /// <summary>Whether stage [first, end) holds the nodes kept together (it then holds them all).</summary>
    public bool IsStateful(int first, int end) => Together is { } t && first <= t.Last && t.First < end;

    public double TotalSeconds => _prefix[Count];
    public long CrossBytes(int gap) => _crossBytes[gap];
    public int CrossCount(int gap) => _crossCount[gap];

    /// <summary>Seconds of nodes [first, end) plus, for a stage that starts after the first gap, receiving what crosses into it.</summary>
    public double StageSeconds(int first, int end) =>
        _prefix[end] - _prefix[first] + (first > 0 ? Cost.Transfer(_crossBytes[first]) + (_crossCount[first] - 1) * Cost.Profile.Transfer.OverheadSeconds : 0);

    /// <summary>Bytes of the distinct weights nodes [first, end) read: initializers, and values made from weights alone.</summary>
    public long WeightBytes(int first, int end)
    {
        var seen = new HashSet<string>();
        long bytes = 0;
        for (int k = first; k < end; k++)
        {
            foreach (var w in _weights[k])
                if (seen.Add(w)) bytes += (long)_graph.Initializers[w].Length * Math.Max(1, _graph.Initializers[w].DataType.ElementSize());
            foreach (var u in TopologicalSort.UsedNames(Line[k]))
                if (_value.TryGetValue(u, out var v) && IsWeightOnly(v) && seen.Add(u)) bytes += _valueBytes[v];
        }
        return bytes;
    }

    /// <summary>
    /// The starts of <paramref name="stages"/> contiguous stages: first the least possible time of the slowest
    /// stage (transfers included), by dynamic programming over the gaps; then, among the cuts keeping every stage
    /// within <see cref="Slack"/> of that, the ones carrying the fewest bytes — the cost model is not exact to a
    /// few percent, but a cut through a narrow place stays cheap whatever the timings. Ties go to the earlier cut.
    /// </summary>
    public int[] Cut(int stages) => Cut(Math.Clamp(stages, 1, MaxStages), (a, b, _) => StageSeconds(a, b));

    /// <summary>
    /// Cuts for stages on machines of different speeds joined by links of their own (a pipeline across cluster
    /// silos): stage j's time is its nodes' seconds × <see cref="StageSite.Slowdown"/> plus its link's cost for the
    /// bytes crossing into it and out of it. Balanced the same way as <see cref="Cut(int)"/>.
    /// </summary>
    public int[] Cut(IReadOnlyList<StageSite> sites)
    {
        if (sites.Count < 1 || sites.Count > MaxStages) throw new InputException($"cannot cut {Count} nodes into {sites.Count} stages");
        return Cut(sites.Count, (a, b, j) => SiteSeconds(sites[j], a, b));
    }

    /// <summary>Stage [first, end)'s seconds on <paramref name="site"/>: its nodes scaled by the site's speed, plus its tensors in and out over the site's link.</summary>
    public double SiteSeconds(StageSite site, int first, int end) =>
        (_prefix[end] - _prefix[first]) * site.Slowdown + site.LinkSeconds(_crossBytes[first]) + (end < Count ? site.LinkSeconds(_crossBytes[end]) : 0);

    private int[] Cut(int stages, Func<int, int, int, double> seconds)
    {
        var (slowest, _) = Solve(stages, seconds, seconds, double.PositiveInfinity, max: true);
        double bound = slowest * (1 + Slack) + 1e-12;
        var (_, starts) = Solve(stages, seconds, (a, _, _) => a > 0 ? _crossBytes[a] : 0, bound, max: false);
        return starts;
    }

    /// <summary>How much slower than the best balance a stage may be for a narrower cut.</summary>
    public const double Slack = 0.05;

    /// <summary>Best split into <paramref name="stages"/> stages of a cost combined by max or sum, every stage's seconds within <paramref name="bound"/>.</summary>
    private (double Value, int[] Starts) Solve(int stages, Func<int, int, int, double> seconds, Func<int, int, int, double> cost, double bound, bool max)
    {
        int n = Count;
        var best = new double[stages + 1, n + 1];
        var from = new int[stages + 1, n + 1];
        for (int j = 0; j <= stages; j++) for (int b = 0; b <= n; b++) best[j, b] = double.PositiveInfinity;
        best[0, 0] = 0;
        for (int j = 1; j <= stages; j++)
            for (int b = j; b <= n - (stages - j); b++)
            {
                if (b < n && !CanCutAt(b)) continue;
                for (int a = j - 1; a < b; a++)
                {
                    if (double.IsPositiveInfinity(best[j - 1, a]) || seconds(a, b, j - 1) > bound) continue;
                    double v = max ? Math.Max(best[j - 1, a], cost(a, b, j - 1)) : best[j - 1, a] + cost(a, b, j - 1);
                    if (v < best[j, b]) { best[j, b] = v; from[j, b] = a; }
                }
            }
        var starts = new int[stages];
        for (int j = stages, b = n; j >= 1; j--) { starts[j - 1] = from[j, b]; b = from[j, b]; }
        return (best[stages, n], starts);
    }

    /// <summary>Values nodes [first, end) read that they do not make themselves (model inputs or earlier stages' values), weights excluded.</summary>
    public List<string> Reads(int first, int end)
    {
        var reads = new List<string>();
        for (int v = 0; v < _names.Count; v++)
            if (_producer[v] < first && _lastReader[v] >= first && !IsWeightOnly(v) && ReadIn(v, first, end)) reads.Add(_names[v]);
        return reads;
    }

    private bool ReadIn(int v, int first, int end)
    {
        for (int k = first; k < end; k++)
            if (TopologicalSort.UsedNames(Line[k]).Contains(_names[v])) return true;
        return false;
    }

    /// <summary>Values nodes [first, end) make that a later stage reads or that are model outputs.</summary>
    public List<string> Writes(int first, int end)
    {
        var outputs = _graph.Outputs.Select(o => o.Name).ToHashSet();
        var writes = new List<string>();
        for (int v = 0; v < _names.Count; v++)
            if (_producer[v] >= first && _producer[v] < end && (_lastReader[v] >= end && !IsWeightOnly(v) || outputs.Contains(_names[v]))) writes.Add(_names[v]);
        return writes;
    }

    /// <summary>Bytes of the largest value nodes [first, end) read or make, weights excluded: what one more item per firing adds to the stage's live activations, at least.</summary>
    public long LargestValueBytes(int first, int end)
    {
        long most = 0;
        for (int v = 0; v < _names.Count; v++)
            if (!IsWeightOnly(v) && (_producer[v] >= first && _producer[v] < end || _producer[v] < first && _lastReader[v] >= first)) most = Math.Max(most, _valueBytes[v]);
        return most;
    }

    public long Bytes(IEnumerable<string> values) => values.Sum(v => _value.TryGetValue(v, out var i) ? _valueBytes[i] : 0);
}

/// <summary>
/// Where a pipeline stage runs, as the cut sees it: how much slower than the cost model's machine
/// (<see cref="Slowdown"/>, measured), and the link its tensors cross: a fixed cost per message and per byte.
/// </summary>
internal readonly record struct StageSite(double Slowdown, double LinkLatencySeconds, double LinkSecondsPerByte)
{
    public double LinkSeconds(long bytes) => bytes > 0 ? LinkLatencySeconds + bytes * LinkSecondsPerByte : 0;
}
