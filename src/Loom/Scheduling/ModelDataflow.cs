using Loom.IR;

namespace Loom.Scheduling;

/// <summary>
/// A graph's nodes as the scheduler sees them at concrete dims: node i of <see cref="Graph"/> is
/// <c>graph.Nodes[Steps[i]]</c>, weighted by the cost model's one-thread time beside other kernels; an edge joins a producer to each node that
/// reads one of its outputs (through subgraphs too) and costs the transfer of those bytes. Nodes left out
/// (constant steps, which run once at the first run) and their values are not part of it.
/// </summary>
public sealed class ModelDataflow
{
    public ModelDataflow(Graph graph, IReadOnlyList<int> steps, Func<string, long?> dims, CostModel cost)
    {
        Steps = steps.ToArray();
        Costs = new NodeCost[Steps.Length];
        var producer = new Dictionary<string, int>();
        var edges = new List<(int, int, double)>();
        var edgeBytes = new Dictionary<(int, int), long>();
        for (int i = 0; i < Steps.Length; i++)
        {
            var node = graph.Nodes[Steps[i]];
            Costs[i] = cost.Node(node, graph, dims);
            foreach (var name in TopologicalSort.UsedNames(node).Distinct())
                if (producer.TryGetValue(name, out var p))
                    edgeBytes[(p, i)] = edgeBytes.GetValueOrDefault((p, i)) + CostModel.BytesOf(name, graph, dims);
            foreach (var o in node.Outputs) if (o.Length > 0) producer[o] = i;
        }
        foreach (var ((from, to), bytes) in edgeBytes) edges.Add((from, to, cost.Transfer(bytes)));
        // One-thread nodes run beside other kernels (a parallel stage's workers, a split batch's copies): weighted as such.
        Graph = new DataflowGraph(Costs.Select(c => c.BesideSeconds).ToArray(), edges);
        WideWeights = Costs.Select(c => c.WideSeconds).ToArray();
        Labels = Steps.Select(s => RunTrace.LabelOf(graph.Nodes[s])).ToArray();
        OpTypes = Steps.Select(s => graph.Nodes[s].OpType).ToArray();
    }

    public DataflowGraph Graph { get; }

    /// <summary>Step (index in the graph's node list) of each dataflow node.</summary>
    public int[] Steps { get; }

    public NodeCost[] Costs { get; }

    /// <summary>Predicted seconds of each node with every intra-op thread.</summary>
    public double[] WideWeights { get; }

    /// <summary>Each node's name as traces show it: its own name, else its first output.</summary>
    public string[] Labels { get; }

    public string[] OpTypes { get; }
}
