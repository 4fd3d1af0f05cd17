namespace Loom.Dynamic.Cells;

/// <summary>One primitive of a traced cell: its inputs are indices of earlier values (arguments first).</summary>
internal sealed class PrimOp(PrimKind kind, int dim, int[] inputs, Parameter? bias, Parameter[]? weights)
{
    public PrimKind Kind { get; } = kind;
    public int Dim { get; } = dim;
    /// <summary>Value indices: 0..ArgCount−1 are the cell's arguments, ArgCount+k is op k's result.</summary>
    public int[] Inputs { get; } = inputs;
    public Parameter? Bias { get; } = bias;
    public Parameter[]? Weights { get; } = weights;
}

/// <summary>
/// A per-instance computation recorded once (a cell): arguments of fixed sizes, primitives in order, and
/// the values it returns. This is what compile-time batching analyses: its parameters are shared by every
/// instance, its arguments differ per instance.
/// </summary>
internal sealed class CellProgram(string name, int[] argDims, List<PrimOp> ops, int[] outputs)
{
    public string Name { get; } = name;
    public int[] ArgDims { get; } = argDims;
    public List<PrimOp> Ops { get; } = ops;
    /// <summary>Value indices of the results.</summary>
    public int[] Outputs { get; } = outputs;

    private CellLayout? _layout;

    public int ArgCount => ArgDims.Length;
    public CellLayout Layout => _layout ??= new CellLayout(this);
    public int ValueCount => ArgDims.Length + Ops.Count;
    public int DimOf(int value) => value < ArgCount ? ArgDims[value] : Ops[value - ArgCount].Dim;

    /// <summary>Every parameter the cell uses, each once, in first-use order.</summary>
    public IEnumerable<Parameter> Parameters()
    {
        var seen = new HashSet<Parameter>();
        foreach (var op in Ops)
        {
            if (op.Bias is { } b && seen.Add(b)) yield return b;
            foreach (var w in op.Weights ?? []) if (seen.Add(w)) yield return w;
        }
    }
}
