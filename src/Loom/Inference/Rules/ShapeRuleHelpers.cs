using System.Collections.Immutable;
using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Pieces the shape-family rules share: symbolic values of small integer tensors, and shapes given by a shape input.</summary>
internal static class ShapeRuleHelpers
{
    /// <summary>
    /// Records the symbolic value of integer output <paramref name="output"/> (rank 0 when
    /// <paramref name="scalar"/>, else rank 1) so Shape→Gather→Concat→Reshape chains keep their
    /// symbols; when every element is known it is also recorded as a constant.
    /// </summary>
    public static void SetIntValue(InferenceContext ctx, int output, IReadOnlyList<Dim> values, DataType dataType, bool scalar)
    {
        if (dataType is not (DataType.Int64 or DataType.Int32) || (scalar && values.Count != 1)) return;
        var dims = values.ToImmutableArray();
        ctx.SetShapeValue(output, dims);
        if (!dims.All(d => d.IsKnown)) return;
        int[] shape = scalar ? [] : [dims.Length];
        ctx.SetConstant(output, dataType == DataType.Int64
            ? Tensor.FromArray(dims.Select(d => d.Constant).ToArray(), shape)
            : Tensor.FromArray(dims.Select(d => (int)d.Constant).ToArray(), shape));
    }

    /// <summary>The symbolic value of an integer input, when it is a rank-0 or rank-1 tensor whose elements are tracked.</summary>
    public static ImmutableArray<Dim>? IntValue(InferenceContext ctx, int input) =>
        ctx.InputDataType(input) is DataType.Int64 or DataType.Int32 ? ctx.ShapeValue(input) : null;

    /// <summary>True when input <paramref name="input"/> is known to be rank 0 (a scalar).</summary>
    public static bool IsScalar(InferenceContext ctx, int input) => ctx.InputShape(input) is { Rank: 0 };

    /// <summary>
    /// The shape named by a 1-D shape input (Reshape, Expand, ConstantOfShape, Tile's repeats...): its
    /// symbolic value when tracked, else as many fresh symbols as its static length, else null.
    /// </summary>
    public static ImmutableArray<Dim>? DimsFromInput(InferenceContext ctx, int input)
    {
        if (ctx.ShapeValue(input) is { } v) return v;
        if (StaticLength(ctx, input) is { } n) return Enumerable.Range(0, n).Select(_ => ctx.NewSymbol()).ToImmutableArray();
        return null;
    }

    /// <summary>The length of a 1-D input when its shape says it.</summary>
    public static int? StaticLength(InferenceContext ctx, int input) =>
        ctx.InputShape(input) is { Rank: 1 } s && s[0].Value is { } n ? (int)n : null;

    /// <summary>An int list from an attribute (older opsets) or from an input (newer ones), when known at compile time.</summary>
    public static long[]? IntsFromAttributeOrInput(InferenceContext ctx, string attribute, int input) =>
        ctx.GetInts(attribute) is { } a ? a.ToArray() : ctx.HasInput(input) ? ShapeHelpers.KnownInts(ctx, input) : null;

    /// <summary>Product of dims, cancelling factors that also appear in <paramref name="divisor"/> first, so batch*seq*768 / (batch*seq*12) is 64.</summary>
    public static Dim DivideProducts(IEnumerable<Dim> numerator, IEnumerable<Dim> divisor)
    {
        var num = numerator.ToList();
        Dim den = Dim.One;
        foreach (var d in divisor)
        {
            int k = num.IndexOf(d);
            if (k >= 0 && d != Dim.Zero) num.RemoveAt(k);
            else den *= d;
        }
        var product = num.Aggregate(Dim.One, (a, b) => a * b);
        return den == Dim.One ? product : Dim.FloorDiv(product, den);
    }

    /// <summary>A fresh symbol for each dim of a shape of rank <paramref name="rank"/>.</summary>
    public static Shape FreshShape(InferenceContext ctx, int rank) => new(Enumerable.Range(0, rank).Select(_ => ctx.NewSymbol()));
}
