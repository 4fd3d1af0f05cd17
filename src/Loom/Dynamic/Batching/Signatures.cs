namespace Loom.Dynamic.Batching;

/// <summary>
/// An operation's batching signature: operator, the identity of its shared parameters and the sizes of its
/// operands. Nodes with equal signatures can run as one batched kernel.
/// </summary>
internal readonly record struct Signature(PrimKind Kind, int Dim, int InCount, int P0, int P1, int P2, int D0, int D1, string? More);

/// <summary>Numbers every node's signature (dense type ids, in order of first appearance).</summary>
internal static class Signatures
{
    public static int[] Assign(DynamicGraph g, out int typeCount, List<Signature>? types = null)
    {
        var ids = new Dictionary<Signature, int>();
        var result = new int[g.NodeCount];
        for (int n = 0; n < g.NodeCount; n++)
        {
            var sig = Of(g, n);
            if (!ids.TryGetValue(sig, out int t))
            {
                t = ids.Count;
                ids.Add(sig, t);
                types?.Add(sig);
            }
            result[n] = t;
        }
        typeCount = ids.Count;
        return result;
    }

    public static Signature Of(DynamicGraph g, int n)
    {
        var node = g.Nodes[n];
        int P(int k) => k < node.PCount ? g.Param(n, k).Id : 0;
        var ins = g.InputsOf(n);
        int d0 = ins.Length > 0 ? g.Nodes[ins[0]].Dim : 0, d1 = ins.Length > 1 ? g.Nodes[ins[1]].Dim : 0;
        string? more = null;
        if (node.PCount > 3) more = string.Join(",", Enumerable.Range(3, node.PCount - 3).Select(k => g.Param(n, k).Id));
        // A bias-free affine and one with a bias must differ even when their parameter ids line up.
        int kind = (int)node.Kind | (node.HasBias ? 0x100 : 0);
        // A cell call is identified by its cell (argument sizes are fixed by it); a slice by where it starts in its input.
        if (node.Kind == PrimKind.Call) return new Signature(node.Kind, node.Dim, node.InCount, g.CellsUsed[node.Aux].Id, 0, 0, 0, 0, null);
        if (node.Kind == PrimKind.Slice) return new Signature(node.Kind, node.Dim, 1, node.Aux, 0, 0, d0, 0, null);
        // A sum's kernel walks each node's own input list (a ragged batch), so sums of any arity batch together;
        // DyNet's signature includes the arity because its batched sum concatenates equal-length argument lists.
        int inCount = node.Kind == PrimKind.Sum ? 0 : node.InCount;
        return new Signature((PrimKind)kind, node.Dim, inCount, P(0), P(1), P(2), d0, d1, more);
    }
}
