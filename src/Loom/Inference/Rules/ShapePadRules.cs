using System.Collections.Immutable;
using Loom.IR;
using static Loom.Inference.Rules.ShapeRuleHelpers;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of Pad and CenterCropPad.</summary>
[ShapeRules]
internal static class ShapePadRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Pad", Pad);
        r.Add("CenterCropPad", CenterCropPad);
    }

    private static void Pad(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (ctx.InputShape(0) is not { } s) { ctx.SetOutput(0, dt, null); return; }
        var pads = ctx.Opset >= 11 ? ctx.ShapeValue(1)
            : ctx.GetInts(ctx.Opset == 1 ? "paddings" : "pads")?.Select(v => Dim.Of(v)).ToImmutableArray();
        long[]? axes = ctx.Opset >= 18 && ctx.HasInput(3) ? ShapeHelpers.KnownInts(ctx, 3) : null;
        if (pads is not { } p || (ctx.Opset >= 18 && ctx.HasInput(3) && axes is null)) { ctx.SetOutput(0, dt, FreshShape(ctx, s.Rank)); return; }
        int n = axes?.Length ?? s.Rank;
        if (p.Length != 2 * n) throw ctx.Fail($"pads has {p.Length} values; {2 * n} expected for {n} axes");
        var dims = s.Dims.ToArray();
        for (int i = 0; i < n; i++)
        {
            int d = axes is null ? i : ShapeHelpers.Axis(ctx, axes[i], s.Rank);
            dims[d] = dims[d] + p[i] + p[n + i];
        }
        ctx.SetOutput(0, dt, new Shape(dims));
    }

    private static void CenterCropPad(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (ctx.InputShape(0) is not { } s) { ctx.SetOutput(0, dt, null); return; }
        var axes = ctx.GetInts("axes")?.ToArray() ?? Enumerable.Range(0, s.Rank).Select(i => (long)i).ToArray();
        if (ctx.ShapeValue(1) is not { } target) { ctx.SetOutput(0, dt, FreshShape(ctx, s.Rank)); return; }
        if (target.Length != axes.Length) throw ctx.Fail($"shape has {target.Length} values for {axes.Length} axes");
        var dims = s.Dims.ToArray();
        for (int i = 0; i < axes.Length; i++) dims[ShapeHelpers.Axis(ctx, axes[i], s.Rank)] = target[i];
        ctx.SetOutput(0, dt, new Shape(dims));
    }
}
