namespace Loom.Dynamic.Batching;

/// <summary>
/// A scheduling problem stripped to what batching sees: each node's signature (type) and inputs, nodes in a
/// topological order. Built from a graph or by hand (tests). One step runs every ready node of one type.
/// </summary>
internal sealed class BatchProblem
{
    public BatchProblem(int[] types, int[][] inputs, int[]? origin = null)
    {
        if (types.Length != inputs.Length) throw new ArgumentException("one input list per node");
        Types = types;
        Inputs = inputs;
        TypeCount = types.Length == 0 ? 0 : types.Max() + 1;
        Origin = origin ?? Enumerable.Range(0, TypeCount).ToArray();
        for (int n = 0; n < inputs.Length; n++)
            foreach (int x in inputs[n])
                if (x < 0 || x >= n) throw new ArgumentException($"node {n}: input {x} is not an earlier node");
    }

    public int[] Types { get; }
    public int[][] Inputs { get; }
    public int TypeCount { get; }
    /// <summary>Per type, its number in the problem this one was cut from (the graph's signature ids).</summary>
    public int[] Origin { get; }
    public int NodeCount => Types.Length;

    public static BatchProblem From(DynamicGraph g)
    {
        var types = Signatures.Assign(g, out _);
        var inputs = new int[g.NodeCount][];
        for (int n = 0; n < inputs.Length; n++) inputs[n] = g.InputsOf(n).ToArray().Distinct().ToArray();
        return new BatchProblem(types, inputs);
    }

    /// <summary>ED-Batch's type-wise bound: per type, the most nodes of it on one path, summed.</summary>
    public int TypeWiseBound()
    {
        int total = 0;
        var f = new int[NodeCount];
        for (int t = 0; t < TypeCount; t++)
        {
            int best = 0;
            for (int n = 0; n < NodeCount; n++)
            {
                int m = 0;
                foreach (int x in Inputs[n]) m = Math.Max(m, f[x]);
                f[n] = m + (Types[n] == t ? 1 : 0);
                best = Math.Max(best, f[n]);
            }
            total += best;
        }
        return total;
    }

    /// <summary>Weakly connected components (independent inputs of one forward): per node its component, and per component its nodes in order.</summary>
    public List<int[]> Components(out int[] of)
    {
        var parent = Enumerable.Range(0, NodeCount).ToArray();
        int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        for (int n = 0; n < NodeCount; n++)
            foreach (int x in Inputs[n]) parent[Find(n)] = Find(x);
        var index = new Dictionary<int, int>();
        var lists = new List<List<int>>();
        of = new int[NodeCount];
        for (int n = 0; n < NodeCount; n++)
        {
            int r = Find(n);
            if (!index.TryGetValue(r, out int c)) { index[r] = c = lists.Count; lists.Add([]); }
            of[n] = c;
            lists[c].Add(n);
        }
        return lists.Select(l => l.ToArray()).ToList();
    }
}
