using Loom.IR;
using Loom.Kernels.Common;

namespace Loom.Inference.Rules;

/// <summary>Shape rule of Einsum: the output labels' sizes (a size-1 occurrence yields to another).</summary>
[ShapeRules]
internal static class EinsumRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Einsum", Einsum);
    }

    private static void Einsum(InferenceContext ctx)
    {
        var shapes = Enumerable.Range(0, ctx.InputCount).Select(ctx.InputShape).ToArray();
        if (shapes.Length == 0 || shapes.Any(s => s is null)) { ctx.SetOutput(0, ctx.InputDataType(0), null); return; }
        var eq = EinsumEquation.Parse(ctx.GetString("equation", ""), shapes.Select(s => s!.Rank).ToArray(), ctx.Fail);
        var dims = new Dictionary<int, Dim>();
        for (int i = 0; i < shapes.Length; i++)
            for (int a = 0; a < shapes[i]!.Rank; a++)
            {
                int l = eq.Operands[i][a];
                var d = shapes[i]![a];
                if (!dims.TryGetValue(l, out var old) || old == Dim.One || (!old.IsKnown && d.IsKnown && d != Dim.One)) dims[l] = d;
                else if (old.IsKnown && d.IsKnown && d != Dim.One && d != old)
                    throw ctx.Fail($"an Einsum label has sizes {old} and {d}");
            }
        ctx.SetOutput(0, ctx.InputDataType(0), new Shape(eq.Output.Select(l => dims[l])));
    }
}
