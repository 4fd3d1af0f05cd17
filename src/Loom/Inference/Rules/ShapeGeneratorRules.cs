using System.Collections.Immutable;
using Loom.IR;
using static Loom.Inference.Rules.ShapeRuleHelpers;

namespace Loom.Inference.Rules;

/// <summary>
/// Shape rules of Expand, Tile, ConstantOfShape, EyeLike, Range, Trilu and OneHot: the ops whose output
/// shape comes from a shape-like input, so a symbolic value of that input gives a symbolic shape.
/// </summary>
[ShapeRules]
internal static class ShapeGeneratorRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Expand", Expand);
        r.Add("Tile", Tile);
        r.Add("ConstantOfShape", ConstantOfShape);
        r.Add("EyeLike", ctx => ctx.SetOutput(0, ctx.Node.HasAttribute("dtype") ? (DataType)ctx.GetInt("dtype", 1) : ctx.InputDataType(0), ctx.InputShape(0)));
        r.Add("Range", Range);
        r.Add("Trilu", ShapeHelpers.SameAsInput);
        r.Add("OneHot", OneHot);
    }

    private static void Expand(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var s = ctx.InputShape(0);
        if (DimsFromInput(ctx, 1) is not { } target || s is null) { ctx.SetOutput(0, dt, null); return; }
        ctx.SetOutput(0, dt, ShapeHelpers.Broadcast(ctx, s, new Shape(target)));
    }

    private static void Tile(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (ctx.InputShape(0) is not { } s) { ctx.SetOutput(0, dt, null); return; }
        if (ctx.Opset < 6)
        {
            // Tile-1: scalar tiles along a scalar axis input.
            var axis = ShapeHelpers.KnownInts(ctx, 2);
            var tiles = ctx.ShapeValue(1);
            if (axis is not [var a] || tiles is not [var t]) { ctx.SetOutput(0, dt, FreshShape(ctx, s.Rank)); return; }
            int k = ShapeHelpers.Axis(ctx, a, s.Rank);
            ctx.SetOutput(0, dt, new Shape(s.Dims.SetItem(k, s[k] * t)));
            return;
        }
        if (DimsFromInput(ctx, 1) is not { } repeats) { ctx.SetOutput(0, dt, FreshShape(ctx, s.Rank)); return; }
        if (repeats.Length != s.Rank) throw ctx.Fail($"repeats has {repeats.Length} values for an input of rank {s.Rank}");
        ctx.SetOutput(0, dt, new Shape(s.Dims.Select((d, i) => d * repeats[i])));
    }

    private static void ConstantOfShape(InferenceContext ctx)
    {
        var value = ctx.Node.GetAttribute("value")?.AsTensor();
        var dt = value?.DataType ?? DataType.Float;
        var dims = DimsFromInput(ctx, 0);
        ctx.SetOutput(0, dt, dims is { } d ? new Shape(d) : null);
        // ConstantOfShape(Shape(x)[:1]) of ints is a small vector later used as a shape (PyTorch exports do this).
        if (dims is [{ Value: { } n and >= 0 and <= 64 }] && value is not null && dt is DataType.Int64 or DataType.Int32)
        {
            long v = dt == DataType.Int64 ? value.AsSpan<long>()[0] : value.AsSpan<int>()[0];
            SetIntValue(ctx, 0, Enumerable.Repeat(Dim.Of(v), (int)n).ToList(), dt, scalar: false);
        }
        else if (dims is { Length: 0 } && value is not null && dt is DataType.Int64 or DataType.Int32)
            SetIntValue(ctx, 0, [Dim.Of(dt == DataType.Int64 ? value.AsSpan<long>()[0] : value.AsSpan<int>()[0])], dt, scalar: true);
    }

    private static void Range(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (dt is DataType.Float or DataType.Double)
        {
            var c = new[] { ctx.ConstantInput(0), ctx.ConstantInput(1), ctx.ConstantInput(2) };
            Dim size = c.All(t => t is { Length: 1 }) ? Dim.Of(FloatCount(c[0]!, c[1]!, c[2]!)) : ctx.NewSymbol();
            ctx.SetOutput(0, dt, new Shape([size]));
            return;
        }
        var start = Scalar(ctx, 0);
        var limit = Scalar(ctx, 1);
        var delta = Scalar(ctx, 2);
        Dim n;
        if (start is null || limit is null || delta?.Value is not { } step || step == 0) n = ctx.NewSymbol();
        else
        {
            // Exact when all are known; over symbols (Range(0, Shape(x)[1], 1)) the limit is assumed past the start.
            var span = limit - start;
            n = step == 1 ? span : step > 0 ? Dim.CeilDiv(span, step) : Dim.CeilDiv(-span, -step);
            if (n.Value is < 0) n = Dim.Zero;
        }
        ctx.SetOutput(0, dt, new Shape([n]));
        if (n.Value is { } count and <= 64 && start?.Value is { } s0 && delta?.Value is { } d0)
            SetIntValue(ctx, 0, Enumerable.Range(0, (int)count).Select(i => Dim.Of(s0 + i * d0)).ToList(), dt, scalar: false);
    }

    private static Dim? Scalar(InferenceContext ctx, int input) => IntValue(ctx, input) is [var v] ? v : null;

    private static long FloatCount(Tensor start, Tensor limit, Tensor delta)
    {
        double s = start.GetDouble(0), l = limit.GetDouble(0), d = delta.GetDouble(0);
        double span = start.DataType == DataType.Float ? (float)l - (float)s : l - s;
        double n = Math.Ceiling(span / d);
        return n > 0 ? (long)n : 0;
    }

    private static void OneHot(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(2);
        if (ctx.InputShape(0) is not { } s) { ctx.SetOutput(0, dt, null); return; }
        int rank = s.Rank + 1;
        long axis = ctx.GetInt("axis", -1);
        int a = ShapeHelpers.Axis(ctx, axis, rank);
        Dim depth = IntValue(ctx, 1) is [var d] ? d
            : ctx.ConstantInput(1) is { Length: 1 } c ? Dim.Of((long)c.GetDouble(0)) : ctx.NewSymbol();
        ctx.SetOutput(0, dt, new Shape(s.Dims.Insert(a, depth)));
    }
}
