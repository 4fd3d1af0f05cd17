using Loom.Kernels.Common;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of MatMul, MatMulInteger and QLinearMatMul (NumPy matmul shapes).</summary>
[ShapeRules]
internal static class MatMulRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("MatMul", ctx => MatMul(ctx, 0, 1, ctx.InputDataType(0)));
        r.Add("MatMulInteger", ctx => MatMul(ctx, 0, 1, DataType.Int32));
        r.Add("QLinearMatMul", ctx => MatMul(ctx, 0, 3, ctx.HasInput(7) ? ctx.InputDataType(7) : ctx.InputDataType(0)));
    }

    private static void MatMul(InferenceContext ctx, int ai, int bi, DataType dtype) =>
        ctx.SetOutput(0, dtype, MatMulShape.OutputDims(s => ShapeHelpers.Broadcast(ctx, s), ctx.InputShape(ai), ctx.InputShape(bi), ctx.Fail));
}
