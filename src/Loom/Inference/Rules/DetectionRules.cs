using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of RoiAlign and NonMaxSuppression.</summary>
[ShapeRules]
internal static class DetectionRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("RoiAlign", RoiAlign);
        r.Add("NonMaxSuppression", NonMaxSuppression);
    }

    /// <summary>Y is (num_rois, C, output_height, output_width).</summary>
    private static void RoiAlign(InferenceContext ctx)
    {
        var rois = ctx.InputShape(1) is { Rank: 2 } rs ? rs[0] : ctx.InputShape(2) is { Rank: 1 } bs ? bs[0] : ctx.NewSymbol();
        var c = ctx.InputShape(0) is { Rank: 4 } xs ? xs[1] : ctx.NewSymbol();
        ctx.SetOutput(0, ctx.InputDataType(0), new Shape([rois, c, Dim.Of(ctx.GetInt("output_height", 1)), Dim.Of(ctx.GetInt("output_width", 1))]));
    }

    /// <summary>selected_indices is (number selected, 3): the count depends on the data.</summary>
    private static void NonMaxSuppression(InferenceContext ctx) =>
        ctx.SetOutput(0, DataType.Int64, new Shape([ctx.NewSymbol(), Dim.Of(3)]));
}
