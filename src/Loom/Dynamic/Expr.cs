namespace Loom.Dynamic;

/// <summary>
/// A vector-valued expression, lazy like DyNet's: building it records an operation in its
/// <see cref="ExprBuilder"/> (a <see cref="DynamicGraph"/>, or a cell being traced) and computes nothing.
/// Shapes are checked when the expression is built.
/// </summary>
public readonly struct Expr(ExprBuilder builder, int id)
{
    public ExprBuilder Builder { get; } = builder;
    /// <summary>The value's index in its builder.</summary>
    public int Id { get; } = id;
    public int Dim => Builder.DimOf(Id);

    public bool IsDefault => Builder is null;

    /// <summary><c>bias + Σ W_j x_j</c> (DyNet's affine_transform); <paramref name="bias"/> may be null.</summary>
    public static Expr Affine(Parameter? bias, params (Parameter W, Expr X)[] terms)
    {
        if (terms.Length == 0) throw new ShapeException("Affine needs at least one (matrix, input) term");
        var inputs = new Expr[terms.Length];
        var weights = new Parameter[terms.Length];
        for (int i = 0; i < terms.Length; i++) (weights[i], inputs[i]) = terms[i];
        return Common(inputs).Prim(PrimKind.Affine, inputs, bias, weights);
    }

    /// <summary><c>W x</c>.</summary>
    public static Expr MatVec(Parameter w, Expr x) => Affine(null, (w, x));

    public static Expr Logistic(Expr x) => x.Builder.Prim(PrimKind.Logistic, [x]);
    public static Expr Tanh(Expr x) => x.Builder.Prim(PrimKind.Tanh, [x]);
    /// <summary><c>1 − x</c>.</summary>
    public static Expr OneMinus(Expr x) => x.Builder.Prim(PrimKind.OneMinus, [x]);
    /// <summary>Elementwise product (DyNet's cmult).</summary>
    public static Expr operator *(Expr a, Expr b) => Common([a, b]).Prim(PrimKind.Mul, [a, b]);
    public static Expr operator +(Expr a, Expr b) => Common([a, b]).Prim(PrimKind.Add, [a, b]);
    public static Expr operator -(Expr a, Expr b) => Common([a, b]).Prim(PrimKind.Sub, [a, b]);
    public static Expr Sum(params Expr[] xs) => xs.Length == 1 ? xs[0] : Common(xs).Prim(PrimKind.Sum, xs);
    public static Expr Concat(params Expr[] xs) => xs.Length == 1 ? xs[0] : Common(xs).Prim(PrimKind.Concat, xs);

    private static ExprBuilder Common(Expr[] xs)
    {
        if (xs.Length == 0) throw new ShapeException("an operation needs at least one input");
        var b = xs[0].Builder ?? throw new ShapeException("an input expression is default (never built)");
        foreach (var x in xs)
            if (!ReferenceEquals(x.Builder, b))
                throw new GraphException("an operation mixes expressions of different graphs (or a graph and a cell being traced)");
        return b;
    }

    public override string ToString() => IsDefault ? "<default>" : $"{Builder.Describe(Id)} [{Dim}]";
}

/// <summary>The primitive operations every expression is made of.</summary>
public enum PrimKind : byte { Affine, Logistic, Tanh, OneMinus, Mul, Add, Sub, Sum, Concat, Lookup, PickNegLogSoftmax, Call, Slice }

/// <summary>Records expressions: a <see cref="DynamicGraph"/> (per-input graphs, batched at Forward) or a cell being traced.</summary>
public abstract class ExprBuilder
{
    internal abstract int DimOf(int id);
    internal abstract string Describe(int id);
    internal abstract Expr Prim(PrimKind kind, Expr[] inputs, Parameter? bias = null, Parameter[]? weights = null);

    /// <summary>The result size of a primitive, or a <see cref="ShapeException"/> saying which operand does not fit.</summary>
    internal static int CheckShape(PrimKind kind, ReadOnlySpan<int> dims, Parameter? bias, Parameter[]? weights)
    {
        switch (kind)
        {
            case PrimKind.Affine:
                int rows = weights![0].Rows;
                for (int j = 0; j < dims.Length; j++)
                {
                    var w = weights[j];
                    if (w.Rows != rows)
                        throw new ShapeException($"Affine: matrix {w} has {w.Rows} rows but {weights[0]} has {rows}; all terms must give the same size");
                    if (w.Cols != dims[j])
                        throw new ShapeException($"Affine: matrix {w} takes {w.Cols} values but its input {j + 1} has {dims[j]}");
                }
                if (bias is not null && (bias.Rows != rows || bias.Cols != 1))
                    throw new ShapeException($"Affine: bias {bias} must be a vector of {rows} values");
                return rows;
            case PrimKind.Logistic or PrimKind.Tanh or PrimKind.OneMinus:
                return dims[0];
            case PrimKind.Concat:
                int total = 0;
                foreach (int d in dims) total += d;
                return total;
            default:
                for (int j = 1; j < dims.Length; j++)
                    if (dims[j] != dims[0])
                        throw new ShapeException($"{kind}: input {j + 1} has {dims[j]} values but input 1 has {dims[0]}");
                return dims[0];
        }
    }
}
