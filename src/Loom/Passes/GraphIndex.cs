using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Who defines and who uses each value of one graph: the producing node of every node output, and
/// how often each value is read — by node inputs, by subgraphs capturing it, and as a graph output.
/// Built once per graph by the passes that match producer–consumer patterns; a pass that makes a node
/// produce another value (a Conv taking over its BatchNormalization's output) records it with
/// <see cref="SetProducer"/>, so chains fold in one sweep.
/// </summary>
internal sealed class GraphIndex
{
    private readonly Dictionary<string, int> _producer = new();
    private readonly Dictionary<string, int> _uses = new();
    private readonly HashSet<string> _outputs;
    private readonly HashSet<string> _inputs;

    public GraphIndex(Graph graph)
    {
        Graph = graph;
        _outputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        _inputs = graph.Inputs.Select(i => i.Name).ToHashSet();
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            var n = graph.Nodes[i];
            foreach (var o in n.Outputs) if (o.Length > 0) _producer[o] = i;
            foreach (var used in TopologicalSort.UsedNames(n)) _uses[used] = _uses.GetValueOrDefault(used) + 1;
        }
        foreach (var o in _outputs) _uses[o] = _uses.GetValueOrDefault(o) + 1;
    }

    public Graph Graph { get; }

    /// <summary>The index of the node that produces <paramref name="value"/>, or -1 (input, initializer, outer value).</summary>
    public int ProducerIndex(string value) => _producer.GetValueOrDefault(value, -1);

    /// <summary>Records that node <paramref name="nodeIndex"/> now produces <paramref name="value"/> (after a rewrite renamed its output).</summary>
    public void SetProducer(string value, int nodeIndex) => _producer[value] = nodeIndex;

    /// <summary>Number of reads of <paramref name="value"/>, a graph output counting as one.</summary>
    public int Uses(string value) => _uses.GetValueOrDefault(value);

    public bool IsGraphOutput(string value) => _outputs.Contains(value);

    /// <summary>True when <paramref name="value"/> is read exactly once, by a node of this graph (not as a graph output).</summary>
    public bool HasSingleConsumer(string value) => Uses(value) == 1 && !IsGraphOutput(value);

    /// <summary>An initializer's tensor, unless it is also a graph input (then a caller may override it).</summary>
    public Tensor? Constant(string value) => Graph.Initializers.TryGetValue(value, out var t) && !_inputs.Contains(value) ? t : null;

    private readonly Dictionary<string, bool> _computedOnce = new();

    /// <summary>
    /// True when <paramref name="value"/> is not an initializer but is computed by deterministic nodes from
    /// initializers alone (a weight built by ConstantOfShape and too big to fold): the runtime computes
    /// it once, on the first run, so a pass may treat it as a constant it can transform with more nodes.
    /// </summary>
    public bool IsComputedOnce(string value)
    {
        if (_computedOnce.TryGetValue(value, out var known)) return known;
        _computedOnce[value] = false; // a cycle (invalid graph) ends here
        int p = ProducerIndex(value);
        bool result = p >= 0 && DeterministicNodes.IsDeterministic(Graph.Nodes[p])
            && Graph.Nodes[p].Inputs.All(i => i.Length == 0 || Constant(i) is not null || IsComputedOnce(i));
        return _computedOnce[value] = result;
    }
}
