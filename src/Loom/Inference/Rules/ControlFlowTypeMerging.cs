using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>
/// Type arithmetic shared by the control-flow and sequence rules: the union of the types one value can
/// take (the two branches of an If, successive Loop iterations, the elements of a sequence), and the
/// fresh-symbol copies needed wherever one static type stands for values of several sizes.
/// </summary>
internal static class ControlFlowTypeMerging
{
    /// <summary>
    /// The least precise type covering both <paramref name="a"/> and <paramref name="b"/>: equal dims
    /// stay, differing dims become fresh symbols, differing ranks give unknown rank. Null (unknown)
    /// when either is unknown. An optional on one side and its element on the other unite as an
    /// optional, since an optional loop-carried value may come back from the body without the wrapper.
    /// </summary>
    public static IrType? Union(InferenceContext ctx, IrType? a, IrType? b, string what)
    {
        if (a is null || b is null) return null;
        if (a.Equals(b)) return a;
        switch (a, b)
        {
            case (TensorType x, TensorType y):
                return new TensorType(UnionDataType(ctx, x.ElementType, y.ElementType, what), UnionShape(ctx, x.Shape, y.Shape));
            case (SequenceType x, SequenceType y):
                return new SequenceType(Union(ctx, x.Element, y.Element, what) ?? UnknownLike(x.Element));
            case (OptionalType x, OptionalType y):
                return new OptionalType(Union(ctx, x.Element, y.Element, what) ?? UnknownLike(x.Element));
            case (OptionalType x, _):
                return new OptionalType(Union(ctx, x.Element, b, what) ?? UnknownLike(x.Element));
            case (_, OptionalType y):
                return new OptionalType(Union(ctx, a, y.Element, what) ?? UnknownLike(y.Element));
            default:
                throw ctx.Fail($"{what} is {a} in one place and {b} in another");
        }
    }

    private static DataType UnionDataType(InferenceContext ctx, DataType a, DataType b, string what)
    {
        if (a == b || b == DataType.Undefined) return a;
        if (a == DataType.Undefined) return b;
        throw ctx.Fail($"{what} is {a.Name()} in one place and {b.Name()} in another");
    }

    public static Shape? UnionShape(InferenceContext ctx, Shape? a, Shape? b)
    {
        if (a is null || b is null || a.Rank != b.Rank) return null;
        if (a.Equals(b)) return a;
        return new Shape(a.Dims.Select((d, i) => d == b[i] ? d : ctx.NewSymbol()));
    }

    /// <summary>A type of the same kind and dtype as <paramref name="t"/> with nothing known about its shape.</summary>
    private static IrType UnknownLike(IrType t) => t switch
    {
        TensorType x => new TensorType(x.ElementType, null),
        SequenceType s => new SequenceType(UnknownLike(s.Element)),
        OptionalType o => new OptionalType(UnknownLike(o.Element)),
        _ => t,
    };

    /// <summary>
    /// The type of one tensor taken out of a sequence. A sequence's element type covers all its elements,
    /// and a symbol in it (even one a model declares, like <c>seq&lt;float[N]&gt;</c>) need not have the
    /// same size in each; a symbol is bound once per run, so every symbolic dim gets a fresh one here.
    /// </summary>
    public static IrType? FreshDims(InferenceContext ctx, IrType? t) => t switch
    {
        TensorType x when x.Shape is { } s && s.Dims.Any(d => !d.IsKnown) =>
            new TensorType(x.ElementType, new Shape(s.Dims.Select(d => d.IsKnown ? d : ctx.NewSymbol()))),
        SequenceType s => new SequenceType(FreshDims(ctx, s.Element)!),
        OptionalType o => new OptionalType(FreshDims(ctx, o.Element)!),
        _ => t,
    };

    /// <summary>The element type of a sequence-typed input, or null when unknown or not a sequence.</summary>
    public static TensorType? ElementOf(IrType? t) => t switch
    {
        SequenceType { Element: TensorType e } => e,
        OptionalType { Element: SequenceType { Element: TensorType e } } => e,
        _ => null,
    };

    /// <summary>Strips one optional wrapper.</summary>
    public static IrType? Unwrap(IrType? t) => t is OptionalType o ? o.Element : t;
}
