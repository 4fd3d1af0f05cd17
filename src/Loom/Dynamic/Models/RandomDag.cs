using Loom.Dynamic.Data;

namespace Loom.Dynamic.Models;

/// <summary>
/// ED-Batch's random-DAG workload: DAGs of <c>nodes</c> nodes in topological order, node i taking up to
/// <c>inDegree</c> distinct earlier nodes (fewer only near the start). A node without inputs is an embedding; every
/// other node is one of two cells chosen at random, h = tanh(W_0 Σ inputs + b_0) or σ(W_1 Σ inputs + b_1), so a
/// scheduler must interleave two signatures. The loss is −log softmax(W_o h)[label] at the last node.
/// </summary>
public sealed class RandomDag
{
    /// <summary>One DAG: per node its inputs (earlier nodes; none for a source) and its cell (0 or 1).</summary>
    public sealed record Dag(int[][] Inputs, byte[] Cell, int Label);

    public RandomDag(int hidden, ulong seed = 1)
    {
        Hidden = hidden;
        var pc = new ParameterCollection(seed);
        Embedding = pc.AddLookup("E", 1, hidden);
        W = [pc.Add("W_0", hidden, hidden), pc.Add("W_1", hidden, hidden)];
        B = [pc.Add("b_0", hidden), pc.Add("b_1", hidden)];
        Output = pc.Add("W_o", 5, hidden);
        Parameters = pc;
    }

    public int Hidden { get; }
    public ParameterCollection Parameters { get; }
    public LookupParameter Embedding { get; }
    public Parameter[] W { get; }
    public Parameter[] B { get; }
    public Parameter Output { get; }

    public static List<Dag> Generate(int count, int nodes = 200, int inDegree = 4, ulong seed = 1)
    {
        var rng = new SplitMix64(seed);
        var result = new List<Dag>(count);
        for (int d = 0; d < count; d++)
        {
            var inputs = new int[nodes][];
            var cell = new byte[nodes];
            for (int i = 0; i < nodes; i++)
            {
                int k = Math.Min(i, inDegree);
                var set = new HashSet<int>();
                while (set.Count < k) set.Add((int)(rng.Next() % (ulong)i));
                inputs[i] = [.. set.Order()];
                cell[i] = (byte)(rng.Next() % 2);
            }
            result.Add(new Dag(inputs, cell, (int)(rng.Next() % 5)));
        }
        return result;
    }

    private Cells.Cell?[] _cells = new Cells.Cell?[2];

    /// <summary>Cell c as one block, Σ inputs → h (ED-Batch runs its DAGs this way).</summary>
    public Cells.Cell NodeCell(int c) => _cells[c] ??= Cells.Cell.Trace($"dag.cell{c}", [Hidden], a =>
    {
        var pre = Expr.Affine(B[c], (W[c], a[0]));
        return [c == 0 ? Expr.Tanh(pre) : Expr.Logistic(pre)];
    });

    /// <summary>Every DAG's nodes and its loss, all losses summed into one scalar; with <paramref name="cells"/> each node's cell is one call.</summary>
    public Expr BuildForward(DynamicGraph g, IReadOnlyList<Dag> dags, List<Expr>? states = null, bool cells = false)
    {
        var losses = new List<Expr>();
        foreach (var dag in dags)
        {
            var h = new Expr[dag.Inputs.Length];
            for (int i = 0; i < h.Length; i++)
            {
                var ins = dag.Inputs[i];
                if (ins.Length == 0) { h[i] = g.Lookup(Embedding, 0); continue; }
                var sum = Expr.Sum(ins.Select(j => h[j]).ToArray());
                int c = dag.Cell[i];
                if (cells) { h[i] = g.Apply(NodeCell(c), sum)[0]; continue; }
                var pre = Expr.Affine(B[c], (W[c], sum));
                h[i] = c == 0 ? Expr.Tanh(pre) : Expr.Logistic(pre);
            }
            states?.AddRange(h);
            losses.Add(g.PickNegLogSoftmax(Output, h[^1], dag.Label));
        }
        return Expr.Sum([.. losses]);
    }
}
