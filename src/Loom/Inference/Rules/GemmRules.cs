using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rule of Gemm: [M, N] from op(A) and op(B).</summary>
[ShapeRules]
internal static class GemmRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Gemm", Gemm);
    }

    private static void Gemm(InferenceContext ctx)
    {
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        bool transA = ctx.GetInt("transA", 0) != 0, transB = ctx.GetInt("transB", 0) != 0;
        if (a is not null && a.Rank != 2) throw ctx.Fail($"A has shape {a}; it must be a matrix");
        if (b is not null && b.Rank != 2) throw ctx.Fail($"B has shape {b}; it must be a matrix");
        if (a is not null && b is not null)
        {
            Dim ka = transA ? a[0] : a[1], kb = transB ? b[1] : b[0];
            if (ka.IsKnown && kb.IsKnown && ka != kb) throw ctx.Fail($"op(A) has {ka} columns but op(B) has {kb} rows");
        }
        var m = a is null ? ctx.NewSymbol() : transA ? a[1] : a[0];
        var n = b is null ? ctx.NewSymbol() : transB ? b[0] : b[1];
        ctx.SetOutput(0, ctx.InputDataType(0), new Shape([m, n]));
    }
}
