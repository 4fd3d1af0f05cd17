namespace Loom.Dynamic.Cells;

/// <summary>
/// A per-instance computation written once as ordinary C# over <see cref="Expr"/>s and traced into a
/// <see cref="CellProgram"/>: applied in a <see cref="DynamicGraph"/> it is one operation (one node per
/// instance), and the engine runs a batch of instances as fused kernels — one GEMM per shared input
/// source and one fused elementwise pass — instead of a dozen batched primitives.
/// </summary>
public sealed class Cell
{
    private static int _nextId;
    private CellPlan? _plan;

    internal Cell(CellProgram program)
    {
        Program = program;
        Id = Interlocked.Increment(ref _nextId);
        OutputDims = program.Outputs.Select(program.DimOf).ToArray();
    }

    public string Name => Program.Name;
    public int[] ArgDims => Program.ArgDims;
    public int[] OutputDims { get; }
    internal int Id { get; }
    internal CellProgram Program { get; }
    internal CellPlan Plan => _plan ??= CellPlan.Compile(Program);

    /// <summary>Records <paramref name="body"/> once with symbolic arguments of the given sizes.</summary>
    public static Cell Trace(string name, int[] argDims, Func<Expr[], Expr[]> body)
    {
        var tracer = new CellTracer(name, argDims);
        var outs = body(tracer.Arguments);
        return new Cell(tracer.Finish(outs));
    }

    /// <summary>How compile-time analysis classified the cell: shared parameters, per-instance arguments, fused kernels.</summary>
    public string Describe() => Plan.Describe();

    public override string ToString() => $"cell {Name}({string.Join(", ", ArgDims)}) -> ({string.Join(", ", OutputDims)})";
}

/// <summary>An <see cref="ExprBuilder"/> that records primitives into a <see cref="CellProgram"/>.</summary>
internal sealed class CellTracer : ExprBuilder
{
    private readonly string _name;
    private readonly int[] _argDims;
    private readonly List<PrimOp> _ops = [];

    public CellTracer(string name, int[] argDims)
    {
        _name = name;
        _argDims = argDims;
        Arguments = argDims.Select((d, i) => d > 0 ? new Expr(this, i) : throw new ShapeException($"cell '{name}': argument {i + 1} must have a positive size, not {d}")).ToArray();
    }

    public Expr[] Arguments { get; }

    internal override int DimOf(int id) => id < _argDims.Length ? _argDims[id] : _ops[id - _argDims.Length].Dim;
    internal override string Describe(int id) => id < _argDims.Length ? $"{_name}.arg{id}" : $"{_name}.{_ops[id - _argDims.Length].Kind}#{id}";

    internal override Expr Prim(PrimKind kind, Expr[] inputs, Parameter? bias = null, Parameter[]? weights = null)
    {
        Span<int> dims = stackalloc int[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) dims[i] = DimOf(inputs[i].Id);
        int dim;
        try { dim = CheckShape(kind, dims, bias, weights); }
        catch (ShapeException e) { throw new ShapeException($"cell '{_name}': {e.Message}"); }
        _ops.Add(new PrimOp(kind, dim, inputs.Select(x => x.Id).ToArray(), bias, weights));
        return new Expr(this, _argDims.Length + _ops.Count - 1);
    }

    public CellProgram Finish(Expr[] outputs)
    {
        if (outputs.Length == 0) throw new ShapeException($"cell '{_name}' returns nothing");
        foreach (var o in outputs)
            if (!ReferenceEquals(o.Builder, this)) throw new GraphException($"cell '{_name}' returns an expression that was not built inside it");
        return new CellProgram(_name, _argDims, _ops, outputs.Select(o => o.Id).ToArray());
    }
}
