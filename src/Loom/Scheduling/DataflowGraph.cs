namespace Loom.Scheduling;

/// <summary>
/// The graph the scheduler works on: nodes numbered in a topological order (every edge goes from a
/// lower to a higher number), each with its predicted run time, and edges with the predicted cost of
/// moving the producer's data to another core. Built from a model by <see cref="ModelDataflow"/>, or by
/// hand in tests.
/// </summary>
public sealed class DataflowGraph
{
    /// <summary>A neighbour and the transfer cost of the edge to or from it.</summary>
    public readonly record struct Edge(int Node, double Cost);

    private readonly double[] _weights;
    private readonly Edge[][] _successors;
    private readonly Edge[][] _predecessors;

    /// <param name="weights">Predicted seconds of each node.</param>
    /// <param name="edges">Edges (From &lt; To); parallel edges between the same nodes add their costs.</param>
    public DataflowGraph(IReadOnlyList<double> weights, IEnumerable<(int From, int To, double Cost)> edges)
    {
        _weights = weights.ToArray();
        var merged = new SortedDictionary<(int, int), double>();
        foreach (var (from, to, cost) in edges)
        {
            if (from < 0 || to >= _weights.Length || from >= to)
                throw new ArgumentException($"edge {from}->{to} does not go forward in a graph of {_weights.Length} nodes");
            merged[(from, to)] = merged.GetValueOrDefault((from, to)) + cost;
        }
        var succ = new List<Edge>[_weights.Length];
        var pred = new List<Edge>[_weights.Length];
        for (int v = 0; v < _weights.Length; v++) { succ[v] = new(); pred[v] = new(); }
        foreach (var ((from, to), cost) in merged)
        {
            succ[from].Add(new Edge(to, cost));
            pred[to].Add(new Edge(from, cost));
        }
        _successors = succ.Select(l => l.ToArray()).ToArray();
        _predecessors = pred.Select(l => l.ToArray()).ToArray();
        EdgeCount = merged.Count;
    }

    public int Count => _weights.Length;

    public int EdgeCount { get; }

    public double Weight(int v) => _weights[v];

    public ReadOnlySpan<Edge> Successors(int v) => _successors[v];

    public ReadOnlySpan<Edge> Predecessors(int v) => _predecessors[v];

    /// <summary>Sum of all node weights: the sequential run time.</summary>
    public double TotalWork => _weights.Sum();

    /// <summary>
    /// The heaviest path by node weights alone (edges free), as the nodes on it: no schedule on any number
    /// of cores finishes before it. Ties go to the lower-numbered node, so the answer is deterministic.
    /// </summary>
    public int[] CriticalPath()
    {
        if (Count == 0) return [];
        var best = new double[Count];
        var from = new int[Count];
        for (int v = 0; v < Count; v++)
        {
            from[v] = -1;
            foreach (var p in Predecessors(v))
                if (from[v] < 0 || best[p.Node] > best[from[v]]) from[v] = p.Node;
            best[v] = _weights[v] + (from[v] >= 0 ? best[from[v]] : 0);
        }
        int end = 0;
        for (int v = 1; v < Count; v++) if (best[v] > best[end]) end = v;
        var path = new List<int>();
        for (int v = end; v >= 0; v = from[v]) path.Add(v);
        path.Reverse();
        return path.ToArray();
    }

    /// <summary>Length of <see cref="CriticalPath"/> in seconds.</summary>
    public double CriticalPathLength => CriticalPath().Sum(v => _weights[v]);

    /// <summary>
    /// The graph's own bound on speedup with <paramref name="workers"/> cores:
    /// min(workers, total work / critical path), with node weights and free edges.
    /// </summary>
    public double SpeedupBound(int workers)
    {
        double cp = CriticalPathLength;
        return cp <= 0 ? 1 : Math.Min(workers, TotalWork / cp);
    }

    /// <summary>The subgraph of the given nodes (in increasing order), renumbered 0..n-1, keeping the edges among them.</summary>
    public DataflowGraph Induced(IReadOnlyList<int> nodes)
    {
        var index = new Dictionary<int, int>();
        for (int i = 0; i < nodes.Count; i++) index[nodes[i]] = i;
        var edges = new List<(int, int, double)>();
        for (int i = 0; i < nodes.Count; i++)
            foreach (var s in Successors(nodes[i]))
                if (index.TryGetValue(s.Node, out var j)) edges.Add((i, j, s.Cost));
        return new DataflowGraph(nodes.Select(v => _weights[v]).ToArray(), edges);
    }
}
