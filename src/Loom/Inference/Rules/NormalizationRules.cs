using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>
/// Shape rules of the normalizations: Y has X's shape (and type, except RMSNormalization's, which has
/// Scale's); LayerNormalization's Mean and InvStdDev keep the dims before axis and are 1 from it on, in
/// the stash type; BatchNormalization's extra outputs have the shape and type of its mean input.
/// </summary>
[ShapeRules]
internal static class NormalizationRules
{
    public static void Register(ShapeRules r)
    {
        r.Add(["InstanceNormalization", "GroupNormalization", "LRN", "MeanVarianceNormalization"], ShapeHelpers.SameAsInput);
        r.Add("LayerNormalization", LayerNormalization);
        r.Add("RMSNormalization", RmsNormalization);
        r.Add("BatchNormalization", BatchNormalization);
    }

    private static void LayerNormalization(InferenceContext ctx)
    {
        ShapeHelpers.SameAsInput(ctx);
        var stash = (DataType)ctx.GetInt("stash_type", 1);
        if (ctx.InputShape(0) is not { } shape)
        {
            ctx.SetOutput(1, stash, null);
            ctx.SetOutput(2, stash, null);
            return;
        }
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", -1), shape.Rank);
        var stats = new Shape(shape.Dims.Select((d, i) => i < axis ? d : Dim.One));
        ctx.SetOutput(1, stash, stats);
        ctx.SetOutput(2, stash, stats);
    }

    private static void RmsNormalization(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(1);
        ctx.SetOutput(0, dt != DataType.Undefined ? dt : ctx.InputDataType(0), ctx.InputShape(0));
    }

    private static void BatchNormalization(InferenceContext ctx)
    {
        ShapeHelpers.SameAsInput(ctx);
        for (int i = 1; i < ctx.OutputCount; i++) ShapeHelpers.SameAsInput(ctx, 3, i);
    }
}
