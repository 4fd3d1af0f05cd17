using System.Collections.Immutable;
using Loom.IR;
using Loom.Kernels.Reference;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of the Reduce* operators, ArgMax and ArgMin.</summary>
[ShapeRules]
internal static class ReduceRules
{
    public static void Register(ShapeRules r)
    {
        foreach (var (op, kind, since) in ReduceKernels.Operators) r.Add(op, ctx => Reduce(ctx, kind, since));
        r.Add(["ArgMax", "ArgMin"], Arg);
    }

    private static void Reduce(InferenceContext ctx, ReduceKind kind, int axesInputSince)
    {
        var dt = ctx.InputDataType(0);
        var shape = ctx.InputShape(0);
        bool keepDims = ctx.GetInt("keepdims", 1) != 0;
        bool fromInput = ctx.Opset >= axesInputSince;
        bool noop = fromInput && ctx.GetInt("noop_with_empty_axes", 0) != 0;
        long[]? axes = !fromInput ? ctx.GetInts("axes")?.ToArray() ?? []
            : ctx.HasInput(1) ? ShapeHelpers.KnownInts(ctx, 1) : [];
        if (shape is null) { ctx.SetOutput(0, dt, null); return; }
        if (axes is null)
        {
            // Axes known only at run time: with keepdims the rank stays, and each dim is itself or 1.
            ctx.SetOutput(0, dt, keepDims ? new Shape(shape.Dims.Select(d => d == Dim.One ? d : ctx.NewSymbol())) : null);
            return;
        }
        var reduced = new bool[shape.Rank];
        foreach (var a in axes)
        {
            int n = ShapeHelpers.Axis(ctx, a, shape.Rank);
            if (reduced[n]) throw ctx.Fail($"axis {a} is listed twice");
            reduced[n] = true;
        }
        if (axes.Length == 0 && !noop) Array.Fill(reduced, true);
        var dims = new List<Dim>();
        for (int d = 0; d < shape.Rank; d++)
            if (!reduced[d]) dims.Add(shape[d]);
            else if (keepDims) dims.Add(Dim.One);
        ctx.SetOutput(0, dt, new Shape(dims));
        PropagateShapeValue(ctx, kind, shape, reduced);
    }

    /// <summary>Sum or product of a shape vector (<c>ReduceProd(Shape(x))</c> = element count) stays symbolic.</summary>
    private static void PropagateShapeValue(InferenceContext ctx, ReduceKind kind, Shape shape, bool[] reduced)
    {
        if (shape.Rank != 1 || !reduced[0] || ctx.ShapeValue(0) is not { } v) return;
        Dim? r = kind switch
        {
            ReduceKind.Sum => v.Aggregate(Dim.Zero, (a, d) => a + d),
            ReduceKind.Prod => v.Aggregate(Dim.One, (a, d) => a * d),
            ReduceKind.Max when v.Length > 0 => v.Skip(1).Aggregate(v[0], Dim.Max),
            ReduceKind.Min when v.Length > 0 => v.Skip(1).Aggregate(v[0], Dim.Min),
            _ => null,
        };
        if (r is not null) ctx.SetShapeValue(0, ImmutableArray.Create(r));
    }

    private static void Arg(InferenceContext ctx)
    {
        var shape = ctx.InputShape(0);
        if (shape is null) { ctx.SetOutput(0, DataType.Int64, null); return; }
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), shape.Rank);
        bool keepDims = ctx.GetInt("keepdims", 1) != 0;
        var dims = new List<Dim>();
        for (int d = 0; d < shape.Rank; d++)
            if (d != axis) dims.Add(shape[d]);
            else if (keepDims) dims.Add(Dim.One);
        ctx.SetOutput(0, DataType.Int64, new Shape(dims));
    }
}
