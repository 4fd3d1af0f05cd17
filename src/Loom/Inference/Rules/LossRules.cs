using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>
/// Shape rules of NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: the loss has the targets'
/// shape with reduction=none, else it is a scalar; SoftmaxCrossEntropyLoss's log_prob has the input's type.
/// </summary>
[ShapeRules]
internal static class LossRules
{
    public static void Register(ShapeRules r) => r.Add(["NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"], Rule);

    private static void Rule(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        bool perSample = ctx.GetString("reduction", "mean") == "none";
        ctx.SetOutput(0, dt, perSample ? ctx.InputShape(1) : Shape.Scalar);
        if (ctx.OutputCount > 1) ShapeHelpers.SameAsInput(ctx, 0, 1);
    }
}
