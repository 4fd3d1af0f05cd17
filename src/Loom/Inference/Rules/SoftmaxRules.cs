namespace Loom.Inference.Rules;

/// <summary>Shape rules of Softmax, LogSoftmax and Hardmax: the output has the input's type.</summary>
[ShapeRules]
internal static class SoftmaxRules
{
    public static void Register(ShapeRules r) => r.Add(["Softmax", "LogSoftmax", "Hardmax"], Rule);

    private static void Rule(InferenceContext ctx)
    {
        // The default axis is 1 before opset 13 (where the input is coerced to 2-D there), -1 from 13.
        if (ctx.InputShape(0) is { Rank: > 0 } shape)
            ShapeHelpers.Axis(ctx, ctx.GetInt("axis", ctx.Opset < 13 ? 1 : -1), shape.Rank);
        ShapeHelpers.SameAsInput(ctx);
    }
}
