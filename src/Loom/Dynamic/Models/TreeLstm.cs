using Loom.Dynamic.Data;

namespace Loom.Dynamic.Models;

/// <summary>
/// The binary TreeLSTM of dynet-benchmark (the DyNet rival's model), written per tree over lazy
/// <see cref="Expr"/>s. Leaf: i, o, u from W·x + b; c = i⊙u; h = o⊙tanh(c). Internal node with children l, r:
/// i, o, u from U·[h_l; h_r] + b (same biases); f_l = σ(U_f1 h_l + b_f), f_r = σ(U_f2 h_r + b_f);
/// c = i⊙u + f_l⊙c_l + f_r⊙c_r; h = o⊙tanh(c). Loss: −log softmax(W_out h)[label] at the root or at every node.
/// </summary>
public sealed class TreeLstm
{
    public const int Classes = 5;

    public TreeLstm(int vocabulary, int hidden, ulong seed = 1)
    {
        Hidden = hidden;
        var pc = new ParameterCollection(seed);
        Embedding = pc.AddLookup("E", vocabulary, hidden);
        Wi = pc.Add("W_i", hidden, hidden); Wo = pc.Add("W_o", hidden, hidden); Wu = pc.Add("W_u", hidden, hidden);
        Ui = pc.Add("U_i", hidden, 2 * hidden); Uo = pc.Add("U_o", hidden, 2 * hidden); Uu = pc.Add("U_u", hidden, 2 * hidden);
        Uf1 = pc.Add("U_f1", hidden, hidden); Uf2 = pc.Add("U_f2", hidden, hidden);
        Bi = pc.Add("b_i", hidden); Bo = pc.Add("b_o", hidden); Bu = pc.Add("b_u", hidden); Bf = pc.Add("b_f", hidden);
        Wout = pc.Add("W_out", Classes, hidden);
        Parameters = pc;
    }

    public int Hidden { get; }
    public ParameterCollection Parameters { get; }
    public LookupParameter Embedding { get; }
    public Parameter Wi { get; }
    public Parameter Wo { get; }
    public Parameter Wu { get; }
    public Parameter Ui { get; }
    public Parameter Uo { get; }
    public Parameter Uu { get; }
    public Parameter Uf1 { get; }
    public Parameter Uf2 { get; }
    public Parameter Bi { get; }
    public Parameter Bo { get; }
    public Parameter Bu { get; }
    public Parameter Bf { get; }
    public Parameter Wout { get; }

    /// <summary>Builds one tree's graph; returns (h, c) of every node (post-order, root last).</summary>
    public (Expr H, Expr C)[] Encode(DynamicGraph g, SstTree tree)
    {
        var hc = new (Expr H, Expr C)[tree.Count];
        for (int n = 0; n < tree.Count; n++)
        {
            if (tree.IsLeaf(n)) hc[n] = Leaf(g.Lookup(Embedding, tree.WordIds[n]));
            else
            {
                var (hl, cl) = hc[tree.Left[n]];
                var (hr, cr) = hc[tree.Right[n]];
                hc[n] = Node(hl, cl, hr, cr);
            }
        }
        return hc;
    }

    private Cells.Cell? _leafCell, _nodeCell;

    /// <summary>The leaf computation as one cell: x → (h, c).</summary>
    public Cells.Cell LeafCell => _leafCell ??= Cells.Cell.Trace("treelstm.leaf", [Hidden], a =>
    {
        var (h, c) = Leaf(a[0]);
        return [h, c];
    });

    /// <summary>The internal-node computation as one cell: (h_l, c_l, h_r, c_r) → (h, c).</summary>
    public Cells.Cell NodeCell => _nodeCell ??= Cells.Cell.Trace("treelstm.node", [Hidden, Hidden, Hidden, Hidden],
        a =>
        {
            var (h, c) = Node(a[0], a[1], a[2], a[3]);
            return [h, c];
        });

    /// <summary>A leaf: gates from the word vector alone (the leaf's own W matrices, no children).</summary>
    private (Expr H, Expr C) Leaf(Expr x)
    {
        var i = Expr.Logistic(Expr.Affine(Bi, (Wi, x)));
        var o = Expr.Logistic(Expr.Affine(Bo, (Wo, x)));
        var u = Expr.Tanh(Expr.Affine(Bu, (Wu, x)));
        var c = i * u;
        return (o * Expr.Tanh(c), c);
    }

    /// <summary>An internal node: gates from both children's h, a forget gate per child.</summary>
    private (Expr H, Expr C) Node(Expr hl, Expr cl, Expr hr, Expr cr)
    {
        var e = Expr.Concat(hl, hr);
        var i = Expr.Logistic(Expr.Affine(Bi, (Ui, e)));
        var o = Expr.Logistic(Expr.Affine(Bo, (Uo, e)));
        var u = Expr.Tanh(Expr.Affine(Bu, (Uu, e)));
        var fl = Expr.Logistic(Expr.Affine(Bf, (Uf1, hl)));
        var fr = Expr.Logistic(Expr.Affine(Bf, (Uf2, hr)));
        var c = Expr.Sum(i * u, fl * cl, fr * cr);
        return (o * Expr.Tanh(c), c);
    }

    /// <summary>The same tree as <see cref="Encode"/>, one cell call per node (ED-Batch's blocks).</summary>
    public (Expr H, Expr C)[] EncodeCells(DynamicGraph g, SstTree tree)
    {
        var hc = new (Expr H, Expr C)[tree.Count];
        for (int n = 0; n < tree.Count; n++)
        {
            Expr[] r = tree.IsLeaf(n)
                ? g.Apply(LeafCell, g.Lookup(Embedding, tree.WordIds[n]))
                : g.Apply(NodeCell, hc[tree.Left[n]].H, hc[tree.Left[n]].C, hc[tree.Right[n]].H, hc[tree.Right[n]].C);
            hc[n] = (r[0], r[1]);
        }
        return hc;
    }

    /// <summary>The losses of one tree: at the root only, or at every labelled node.</summary>
    public void Losses(DynamicGraph g, SstTree tree, (Expr H, Expr C)[] hc, bool everyNode, List<Expr> into)
    {
        if (!everyNode) { into.Add(g.PickNegLogSoftmax(Wout, hc[tree.Root].H, tree.Labels[tree.Root])); return; }
        for (int n = 0; n < tree.Count; n++) into.Add(g.PickNegLogSoftmax(Wout, hc[n].H, tree.Labels[n]));
    }

    /// <summary>One forward as the rival builds it: every tree's graph, all losses summed into one scalar.</summary>
    public Expr BuildForward(DynamicGraph g, IReadOnlyList<SstTree> trees, bool everyNode, List<Expr>? roots = null, bool cells = false)
    {
        var losses = new List<Expr>();
        foreach (var t in trees)
        {
            var hc = cells ? EncodeCells(g, t) : Encode(g, t);
            roots?.Add(hc[t.Root].H);
            Losses(g, t, hc, everyNode, losses);
        }
        return Expr.Sum([.. losses]);
    }
}
