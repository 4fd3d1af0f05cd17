using Loom.IR;
using static Loom.Inference.Rules.ShapeRuleHelpers;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of NonZero, Unique, ReverseSequence and Col2Im.</summary>
[ShapeRules]
internal static class ShapeSelectRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("NonZero", ctx => ctx.SetOutput(0, DataType.Int64,
            ctx.InputShape(0) is { } s ? new Shape([Dim.Of(Math.Max(1, s.Rank)), ctx.NewSymbol()]) : null));
        r.Add("Unique", Unique);
        r.Add("ReverseSequence", ShapeHelpers.SameAsInput);
        r.Add("Col2Im", Col2Im);
    }

    private static void Unique(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var s = ctx.InputShape(0);
        var u = ctx.NewSymbol();
        Shape? y = null;
        Dim? items = null;
        if (!ctx.Node.HasAttribute("axis")) { y = new Shape([u]); items = s?.Size(); }
        else if (s is not null)
        {
            int a = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), s.Rank);
            y = new Shape(s.Dims.SetItem(a, u));
            items = s[a];
        }
        ctx.SetOutput(0, dt, y);
        ctx.SetOutput(1, DataType.Int64, new Shape([u]));
        ctx.SetOutput(2, DataType.Int64, new Shape([items ?? ctx.NewSymbol()]));
        ctx.SetOutput(3, DataType.Int64, new Shape([u]));
    }

    private static void Col2Im(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var s = ctx.InputShape(0);
        var image = DimsFromInput(ctx, 1);
        if (s is null || image is null) { ctx.SetOutput(0, dt, null); return; }
        if (s.Rank != 3) throw ctx.Fail($"input must be 3-D [N, C*prod(block), L], got {s}");
        Dim c = ShapeHelpers.KnownInts(ctx, 2) is { } block ? Dim.FloorDiv(s[1], block.Aggregate(1L, (p, v) => p * v)) : ctx.NewSymbol();
        ctx.SetOutput(0, dt, new Shape(new[] { s[0], c }.Concat(image)));
    }
}
