namespace Loom.Inference.Rules;

/// <summary>Shape rules of Softmax, LogSoftmax and Hardmax: the output has the input's type.</summary>
[ShapeRules]
internal static class SoftmaxRules
{
    public static void Register(ShapeRules r) => r.Add(["Softmax", "LogSoftmax", "Hardmax"], Rule);

    private static void Rule(InferenceContext ctx)
    {
        // Opset < 13 coerces to 2-D and allows axis == rank; from 13 the axis must name a dim.
        if (ctx.InputShape(0) is { Rank: > 0 } shape)
        {
            long axis = ctx.GetInt("axis", ctx.Opset < 13 ? 1 : -1);
            int limit = ctx.Opset < 13 ? shape.Rank : shape.Rank - 1;
            if (axis < -shape.Rank || axis > limit) throw ctx.Fail($"axis {axis} is out of range for rank {shape.Rank}");
        }
        ShapeHelpers.SameAsInput(ctx);
    }
}
