using Loom.Dynamic.Batching;

namespace Loom.Dynamic;

/// <summary>
/// A computation graph built one input at a time and run at <see cref="Forward"/>, as in DyNet: building an
/// expression only records a node, so the graphs of many inputs can be batched together by a
/// <see cref="BatchingPolicy"/>. Build a fresh graph (or <see cref="Clear"/>) per forward.
/// </summary>
public sealed unsafe partial class DynamicGraph : ExprBuilder
{
    internal struct Node
    {
        public PrimKind Kind;
        public int Dim;
        /// <summary>Inputs are <c>_inputs[InStart .. InStart+InCount)</c>.</summary>
        public int InStart, InCount;
        /// <summary>Parameters are <c>_params[PStart .. PStart+PCount)</c>; an affine's bias (if any) comes first.</summary>
        public int PStart, PCount;
        public bool HasBias;
        /// <summary>The row of a lookup, or the label of a loss.</summary>
        public int Aux;
    }

    internal readonly List<Node> Nodes = [];
    internal readonly List<int> Inputs = [];
    internal readonly List<Parameter> Params = [];
    internal long TotalFloats;

    public int NodeCount => Nodes.Count;

    /// <summary>Forgets every node, keeping the memory for the next forward.</summary>
    public void Clear()
    {
        Nodes.Clear(); Inputs.Clear(); Params.Clear(); CellsUsed.Clear(); TotalFloats = 0;
        _values = null;
    }

    /// <summary>Row <paramref name="id"/> of a lookup table (a word embedding).</summary>
    public Expr Lookup(LookupParameter table, int id)
    {
        if ((uint)id >= (uint)table.Count) throw new ShapeException($"lookup of row {id} in {table}, which has {table.Count} rows");
        return Add(new Node { Kind = PrimKind.Lookup, Dim = table.Dim, Aux = id }, [], [table]);
    }

    /// <summary><c>−log softmax(W h)[label]</c>, a one-value loss (DyNet's pickneglogsoftmax of a bias-free output layer).</summary>
    public Expr PickNegLogSoftmax(Parameter w, Expr h, int label)
    {
        Own(h);
        if (w.Cols != h.Dim) throw new ShapeException($"PickNegLogSoftmax: {w} takes {w.Cols} values but h has {h.Dim}");
        if ((uint)label >= (uint)w.Rows) throw new ShapeException($"PickNegLogSoftmax: label {label} is not one of the {w.Rows} classes of {w}");
        return Add(new Node { Kind = PrimKind.PickNegLogSoftmax, Dim = 1, Aux = label }, [h.Id], [w]);
    }

    internal override int DimOf(int id) => Nodes[id].Dim;
    internal override string Describe(int id) => $"{Nodes[id].Kind}#{id}";

    internal override Expr Prim(PrimKind kind, Expr[] inputs, Parameter? bias = null, Parameter[]? weights = null)
    {
        Span<int> dims = stackalloc int[inputs.Length];
        var ids = new int[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) { Own(inputs[i]); dims[i] = Nodes[inputs[i].Id].Dim; ids[i] = inputs[i].Id; }
        int dim = CheckShape(kind, dims, bias, weights);
        var ps = new List<Parameter>();
        if (bias is not null) ps.Add(bias);
        if (weights is not null) ps.AddRange(weights);
        return Add(new Node { Kind = kind, Dim = dim, HasBias = bias is not null }, ids, ps);
    }

    internal void Own(Expr x)
    {
        if (!ReferenceEquals(x.Builder, this)) throw new GraphException("an expression of another graph (or a cell being traced) was used in this graph");
        if (x.Id >= Nodes.Count) throw new GraphException("an expression from before the graph was cleared was used");
    }

    internal Expr Add(Node n, int[] inputs, IReadOnlyList<Parameter> ps)
    {
        n.InStart = Inputs.Count; n.InCount = inputs.Length;
        Inputs.AddRange(inputs);
        n.PStart = Params.Count; n.PCount = ps.Count;
        Params.AddRange(ps);
        if (n.Kind is not (PrimKind.Lookup or PrimKind.Slice)) TotalFloats += n.Dim;
        Nodes.Add(n);
        _values = null;
        return new Expr(this, Nodes.Count - 1);
    }

    internal ReadOnlySpan<int> InputsOf(int node)
    {
        var n = Nodes[node];
        return System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Inputs).Slice(n.InStart, n.InCount);
    }

    internal Parameter Param(int node, int k) => Params[Nodes[node].PStart + k];
}
