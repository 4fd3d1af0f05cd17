using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of Transpose, DepthToSpace and SpaceToDepth.</summary>
[ShapeRules]
internal static class ShapeTransposeRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Transpose", Transpose);
        r.Add("DepthToSpace", ctx => SpaceDepth(ctx, toSpace: true));
        r.Add("SpaceToDepth", ctx => SpaceDepth(ctx, toSpace: false));
    }

    private static void Transpose(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var perm = ctx.GetInts("perm");
        if (ctx.InputShape(0) is not { } s)
        {
            ctx.SetOutput(0, dt, perm is { } p ? ShapeRuleHelpers.FreshShape(ctx, p.Length) : null);
            return;
        }
        var order = perm?.ToArray() ?? Enumerable.Range(0, s.Rank).Reverse().Select(k => (long)k).ToArray();
        if (order.Length != s.Rank || order.Distinct().Count() != order.Length || order.Any(k => k < 0 || k >= s.Rank))
            throw ctx.Fail($"perm [{string.Join(",", order)}] is not a permutation of the axes of {s}");
        ctx.SetOutput(0, dt, new Shape(order.Select(k => s[(int)k])));
    }

    private static void SpaceDepth(InferenceContext ctx, bool toSpace)
    {
        var dt = ctx.InputDataType(0);
        long b = ctx.GetInt("blocksize", 0);
        if (b < 1) throw ctx.Fail($"blocksize {b} must be positive");
        if (ctx.InputShape(0) is not { } s) { ctx.SetOutput(0, dt, ShapeRuleHelpers.FreshShape(ctx, 4)); return; }
        if (s.Rank != 4) throw ctx.Fail($"input must be 4-D (NCHW), got {s}");
        ctx.SetOutput(0, dt, toSpace
            ? new Shape([s[0], Dim.FloorDiv(s[1], b * b), s[2] * b, s[3] * b])
            : new Shape([s[0], s[1] * (b * b), Dim.FloorDiv(s[2], b), Dim.FloorDiv(s[3], b)]));
    }
}
