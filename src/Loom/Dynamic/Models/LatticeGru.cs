using Loom.Dynamic.Data;

namespace Loom.Dynamic.Models;

/// <summary>
/// ED-Batch's lattice GRU (benchmark/models/lattice.cc) over lazy <see cref="Expr"/>s. For each arc j → i with
/// token x, the character cell (j = i−1) or the word cell (separate parameters) computes
/// r = σ(A_r h_j + B_r x + b_r), z = σ(A_z h_j + B_z x + b_z), g = tanh(A_c (r⊙h_j) + B_c x + b_c),
/// h = z⊙h_j + (1−z)⊙g; a node's state is the sum over its arcs, node 0 takes a learned h0, and every node adds
/// −log softmax(W_o h_i)[tag_i].
/// </summary>
public sealed class LatticeGru
{
    private sealed record GruCell(Parameter Ar, Parameter Az, Parameter Ac, Parameter Br, Parameter Bz, Parameter Bc, Parameter Br0, Parameter Bz0, Parameter Bc0);

    private readonly GruCell _char, _word;

    public LatticeGru(int hidden, int classes, int vocabulary = 256, ulong seed = 1)
    {
        Hidden = hidden;
        var pc = new ParameterCollection(seed);
        GruCell Cell(string n) => new(pc.Add($"{n}.A_r", hidden, hidden), pc.Add($"{n}.A_z", hidden, hidden), pc.Add($"{n}.A_c", hidden, hidden),
            pc.Add($"{n}.B_r", hidden, hidden), pc.Add($"{n}.B_z", hidden, hidden), pc.Add($"{n}.B_c", hidden, hidden),
            pc.Add($"{n}.b_r", hidden), pc.Add($"{n}.b_z", hidden), pc.Add($"{n}.b_c", hidden));
        _char = Cell("char");
        _word = Cell("word");
        CharEmbedding = pc.AddLookup("char.E", vocabulary, hidden);
        WordEmbedding = pc.AddLookup("word.E", vocabulary, hidden);
        Start = pc.AddLookup("h0", 1, hidden);
        Output = pc.Add("W_o", classes, hidden);
        Parameters = pc;
    }

    public int Hidden { get; }
    public ParameterCollection Parameters { get; }
    public LookupParameter CharEmbedding { get; }
    public LookupParameter WordEmbedding { get; }
    public LookupParameter Start { get; }
    public Parameter Output { get; }

    private Cells.Cell? _charCell, _wordCell;

    /// <summary>One arc's GRU as a cell, (h_j, x) → h (the character or the word cell).</summary>
    public Cells.Cell ArcCell(bool isChar)
    {
        ref var slot = ref isChar ? ref _charCell : ref _wordCell;
        var cell = isChar ? _char : _word;
        return slot ??= Cells.Cell.Trace(isChar ? "lattice.char" : "lattice.word", [Hidden, Hidden], a =>
        {
            var (hj, x) = (a[0], a[1]);
            var r = Expr.Logistic(Expr.Affine(cell.Br0, (cell.Ar, hj), (cell.Br, x)));
            var z = Expr.Logistic(Expr.Affine(cell.Bz0, (cell.Az, hj), (cell.Bz, x)));
            var gc = Expr.Tanh(Expr.Affine(cell.Bc0, (cell.Ac, r * hj), (cell.Bc, x)));
            return [z * hj + Expr.OneMinus(z) * gc];
        });
    }

    /// <summary>Every node's state of one lattice; with <paramref name="cells"/> each arc is one cell call (ED-Batch's blocks).</summary>
    public Expr[] Encode(DynamicGraph g, Lattice lat, bool cells = false)
    {
        var h = new Expr[lat.NodeCount];
        h[0] = g.Lookup(Start, 0);
        var arcs = new List<Expr>();
        for (int i = 1; i < lat.NodeCount; i++)
        {
            arcs.Clear();
            for (int a = lat.ArcStart[i]; a < lat.ArcStart[i + 1]; a++)
            {
                bool isChar = lat.IsCharArc(i, a);
                var cell = isChar ? _char : _word;
                var x = g.Lookup(isChar ? CharEmbedding : WordEmbedding, lat.ArcToken[a]);
                var hj = h[lat.ArcFrom[a]];
                if (cells) { arcs.Add(g.Apply(ArcCell(isChar), hj, x)[0]); continue; }
                var r = Expr.Logistic(Expr.Affine(cell.Br0, (cell.Ar, hj), (cell.Br, x)));
                var z = Expr.Logistic(Expr.Affine(cell.Bz0, (cell.Az, hj), (cell.Bz, x)));
                var gc = Expr.Tanh(Expr.Affine(cell.Bc0, (cell.Ac, r * hj), (cell.Bc, x)));
                arcs.Add(z * hj + Expr.OneMinus(z) * gc);
            }
            h[i] = Expr.Sum([.. arcs]);
        }
        return h;
    }

    /// <summary>One forward: every lattice's graph, a loss at every node, all summed into one scalar.</summary>
    public Expr BuildForward(DynamicGraph g, IReadOnlyList<Lattice> lattices, List<Expr>? states = null, bool cells = false)
    {
        var losses = new List<Expr>();
        foreach (var lat in lattices)
        {
            var h = Encode(g, lat, cells);
            states?.AddRange(h);
            for (int i = 0; i < h.Length; i++) losses.Add(g.PickNegLogSoftmax(Output, h[i], lat.Tags[i]));
        }
        return Expr.Sum([.. losses]);
    }
}
