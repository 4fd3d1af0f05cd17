namespace Loom.Dynamic.Batching;

/// <summary>The facts every scheduler needs: signature types, depths and consumer lists of a built graph.</summary>
internal sealed class GraphShape
{
    public GraphShape(DynamicGraph g)
    {
        int n = g.NodeCount;
        Types = Signatures.Assign(g, out int tc);
        TypeCount = tc;
        Depth = new int[n];
        Pending = new int[n];
        var consumerCount = new int[n + 1];
        for (int i = 0; i < n; i++)
        {
            int d = 0;
            foreach (int x in g.InputsOf(i))
            {
                d = Math.Max(d, Depth[x] + 1);
                consumerCount[x + 1]++;
            }
            Depth[i] = d;
            Pending[i] = g.Nodes[i].InCount;
        }
        for (int i = 0; i < n; i++) consumerCount[i + 1] += consumerCount[i];
        ConsumerStart = consumerCount;
        Consumers = new int[consumerCount[n]];
        var fill = (int[])consumerCount.Clone();
        for (int i = 0; i < n; i++)
            foreach (int x in g.InputsOf(i)) Consumers[fill[x]++] = i;
        // Nodes are numbered in a topological order, so one backward pass gives every node's height.
        Height = new int[n];
        for (int i = n - 1; i >= 0; i--)
        {
            int h = 0;
            foreach (int c in ConsumersOf(i)) h = Math.Max(h, Height[c]);
            Height[i] = h + 1;
        }
    }

    /// <summary>Nodes on the longest path from a node to the end of the graph, itself included.</summary>
    public int[] Height { get; }

    public int[] Types { get; }
    public int TypeCount { get; }
    /// <summary>0 for nodes without inputs, else 1 + the deepest input.</summary>
    public int[] Depth { get; }
    /// <summary>Number of inputs of each node (schedulers count them down as inputs run).</summary>
    public int[] Pending { get; }
    public int[] ConsumerStart { get; }
    public int[] Consumers { get; }

    /// <summary>
    /// After <see cref="LowerBound"/>: per node, how many nodes of its own signature lie on the longest path to it
    /// (1-based). Nodes of one signature and level never depend on each other, and running each (signature, level)
    /// as one batch reaches the lower bound exactly.
    /// </summary>
    public int[] TypeLevel { get; private set; } = [];

    public ReadOnlySpan<int> ConsumersOf(int node) => Consumers.AsSpan(ConsumerStart[node], ConsumerStart[node + 1] - ConsumerStart[node]);

    /// <summary>
    /// ED-Batch's type-wise lower bound on batched kernel calls: for each signature, the most nodes of it on any
    /// one path (they can never share a batch), summed over signatures.
    /// </summary>
    public int LowerBound(DynamicGraph g)
    {
        int n = Types.Length, total = 0;
        var f = new int[n];
        TypeLevel = new int[n];
        for (int t = 0; t < TypeCount; t++)
        {
            int best = 0;
            for (int i = 0; i < n; i++)
            {
                int m = 0;
                foreach (int x in g.InputsOf(i)) m = Math.Max(m, f[x]);
                f[i] = m + (Types[i] == t ? 1 : 0);
                if (Types[i] == t) TypeLevel[i] = f[i];
                best = Math.Max(best, f[i]);
            }
            total += best;
        }
        return total;
    }
}
