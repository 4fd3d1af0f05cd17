using Loom.IR;
using static Loom.Inference.Rules.ShapeRuleHelpers;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of Gather, GatherElements, GatherND, Compress and the Scatter ops.</summary>
[ShapeRules]
internal static class GatherScatterRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Gather", Gather);
        r.Add("GatherElements", ctx => ctx.SetOutput(0, ctx.InputDataType(0), ctx.InputShape(1)));
        r.Add("GatherND", GatherND);
        r.Add(["Scatter", "ScatterElements", "ScatterND"], ShapeHelpers.SameAsInput);
        r.Add("Compress", Compress);
    }

    private static void Gather(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var data = ctx.InputShape(0);
        var idx = ctx.InputShape(1);
        if (data is null || idx is null) { ctx.SetOutput(0, dt, null); return; }
        int a = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), data.Rank);
        ctx.SetOutput(0, dt, new Shape(data.Dims.Take(a).Concat(idx.Dims).Concat(data.Dims.Skip(a + 1))));

        // Shape(x)[k]: picking from a tracked shape vector keeps the picked symbols.
        if (data.Rank == 1 && IntValue(ctx, 0) is { } v && ShapeHelpers.KnownInts(ctx, 1) is { } picks && idx.Rank <= 1)
        {
            var dims = new List<Dim>();
            foreach (var p in picks)
            {
                long k = p < 0 ? p + v.Length : p;
                if (k < 0 || k >= v.Length) throw ctx.Fail($"index {p} is out of range for a dimension of size {v.Length}");
                dims.Add(v[(int)k]);
            }
            SetIntValue(ctx, 0, dims, dt, scalar: idx.Rank == 0);
        }
    }

    private static void GatherND(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var data = ctx.InputShape(0);
        var idx = ctx.InputShape(1);
        int b = (int)(ctx.Opset >= 12 ? ctx.GetInt("batch_dims", 0) : 0);
        if (data is null || idx is null || idx.Rank == 0 || idx[idx.Rank - 1].Value is not { } k) { ctx.SetOutput(0, dt, null); return; }
        if (b + k > data.Rank) throw ctx.Fail($"index tuples of length {k} are too long for data {data} with batch_dims {b}");
        ctx.SetOutput(0, dt, new Shape(idx.Dims.Take(idx.Rank - 1).Concat(data.Dims.Skip(b + (int)k))));
    }

    private static void Compress(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (!ctx.Node.HasAttribute("axis")) { ctx.SetOutput(0, dt, FreshShape(ctx, 1)); return; }
        if (ctx.InputShape(0) is not { } s) { ctx.SetOutput(0, dt, null); return; }
        int a = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), s.Rank);
        ctx.SetOutput(0, dt, new Shape(s.Dims.SetItem(a, ctx.NewSymbol())));
    }
}
