using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rule of TopK: the input's shape with the axis dim replaced by k; indices are int64.</summary>
[ShapeRules]
internal static class TopKRules
{
    public static void Register(ShapeRules r) => r.Add("TopK", Rule);

    private static void Rule(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (ctx.InputShape(0) is not { } shape)
        {
            ctx.SetOutput(0, dt, null);
            ctx.SetOutput(1, DataType.Int64, null);
            return;
        }
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", -1), shape.Rank);
        Dim k = ctx.Opset < 10 ? Dim.Of(ctx.GetInt("k", -1))
            : ctx.ShapeValue(1) is { Length: 1 } v ? v[0] : ctx.NewSymbol();
        if (k.Value is < 0) throw ctx.Fail($"k = {k} must not be negative");
        if (k.Value is { } kv && shape[axis].Value is { } n && kv > n) throw ctx.Fail($"k = {kv} exceeds the size {n} of axis {axis}");
        var outShape = new Shape(shape.Dims.SetItem(axis, k));
        ctx.SetOutput(0, dt, outShape);
        ctx.SetOutput(1, DataType.Int64, outShape);
    }
}
