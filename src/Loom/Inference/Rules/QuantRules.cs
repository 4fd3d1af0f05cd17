using Loom.IR;
using Loom.Kernels.Reference;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear.</summary>
[ShapeRules]
internal static class QuantRules
{
    public static void Register(ShapeRules r)
    {
        // A zero point of unknown dtype leaves the output dtype unknown rather than defaulting it.
        r.Add("QuantizeLinear", ctx => ctx.SetOutput(0,
            ctx.HasInput(2) ? ctx.InputDataType(2) : QuantLinearKernels.QuantizeOutputType(DataType.Undefined, ctx.GetInt("output_dtype", 0)),
            ctx.InputShape(0)));
        r.Add("DequantizeLinear", ctx => ctx.SetOutput(0,
            QuantLinearKernels.DequantizeOutputType(ctx.InputDataType(1), ctx.GetInt("output_dtype", 0)), ctx.InputShape(0)));
        r.Add("DynamicQuantizeLinear", ctx =>
        {
            ctx.SetOutput(0, DataType.UInt8, ctx.InputShape(0));
            ctx.SetOutput(1, DataType.Float, Shape.Of(ReadOnlySpan<int>.Empty));
            ctx.SetOutput(2, DataType.UInt8, Shape.Of(ReadOnlySpan<int>.Empty));
        });
    }
}
