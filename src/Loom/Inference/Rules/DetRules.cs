using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rule of Det: <c>[*, M, M]</c> gives <c>[*]</c>.</summary>
[ShapeRules]
internal static class DetRules
{
    public static void Register(ShapeRules r) => r.Add("Det", Rule);

    private static void Rule(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (ctx.InputShape(0) is not { } shape) { ctx.SetOutput(0, dt, null); return; }
        if (shape.Rank < 2) throw ctx.Fail($"Det needs square matrices [*, M, M], not {shape}");
        var (rows, cols) = (shape[shape.Rank - 2], shape[shape.Rank - 1]);
        if (rows.IsKnown && cols.IsKnown && rows != cols) throw ctx.Fail($"Det needs square matrices [*, M, M], not {shape}");
        ctx.SetOutput(0, dt, new Shape(shape.Dims[..^2]));
    }
}
