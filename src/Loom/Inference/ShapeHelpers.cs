using System.Collections.Immutable;
using Loom.IR;

namespace Loom.Inference;

/// <summary>Building blocks shared by shape rules.</summary>
public static class ShapeHelpers
{
    /// <summary>Output 0 has the type of input 0 (unary elementwise ops, Identity).</summary>
    public static void SameAsInput(InferenceContext ctx) => SameAsInput(ctx, 0, 0);

    public static void SameAsInput(InferenceContext ctx, int input, int output)
    {
        if (ctx.InputType(input) is { } t) ctx.SetOutput(output, t);
    }

    /// <summary>
    /// Multidirectional (NumPy) broadcast of symbolic shapes. Equal dims stay; a known 1 yields to the
    /// other dim; a known size beats a symbol (which must then be 1 or that size); two different
    /// symbols give a fresh symbol, bound when the model runs.
    /// </summary>
    public static Shape? Broadcast(InferenceContext ctx, params Shape?[] shapes)
    {
        if (shapes.Any(s => s is null)) return null;
        int rank = shapes.Max(s => s!.Rank);
        var dims = new Dim[rank];
        for (int d = 0; d < rank; d++)
        {
            Dim? result = null;
            foreach (var s in shapes)
            {
                int sd = d - (rank - s!.Rank);
                var dim = sd >= 0 ? s[sd] : Dim.One;
                if (result is null || result == dim || dim == Dim.One) { result ??= dim; continue; }
                if (result == Dim.One) { result = dim; continue; }
                if (result.IsKnown && dim.IsKnown)
                    throw ctx.Fail($"shapes {string.Join(" and ", shapes.Select(x => x!.ToString()))} cannot be broadcast (dim {d}: {result} vs {dim})");
                if (dim.IsKnown) { result = dim; continue; }
                if (result.IsKnown) continue;
                result = ctx.NewSymbol();
            }
            dims[d] = result ?? Dim.One;
        }
        return new Shape(dims);
    }

    /// <summary>Elementwise op over broadcast inputs: output dtype is <paramref name="outputType"/> (default: input 0's).</summary>
    public static void BroadcastElementwise(InferenceContext ctx, DataType? outputType = null)
    {
        var shapes = Enumerable.Range(0, ctx.InputCount).Where(ctx.HasInput).Select(ctx.InputShape).ToArray();
        var dt = outputType ?? ctx.InputDataType(0);
        ctx.SetOutput(0, dt, shapes.Length == 0 ? null : Broadcast(ctx, shapes));
    }

    /// <summary>Normalises an axis attribute against a rank, failing with the node's name when out of range.</summary>
    public static int Axis(InferenceContext ctx, long axis, int rank)
    {
        if (axis < -rank || axis >= rank) throw ctx.Fail($"axis {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>The value of a 1-D integer shape input as concrete longs, when every element is known.</summary>
    public static long[]? KnownInts(InferenceContext ctx, int input)
    {
        if (ctx.ShapeValue(input) is not { } v) return null;
        var r = new long[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            if (v[i].Value is not { } x) return null;
            r[i] = x;
        }
        return r;
    }

    public static ImmutableArray<Dim> Dims(params long[] values) => values.Select(v => Dim.Of(v)).ToImmutableArray();
}
