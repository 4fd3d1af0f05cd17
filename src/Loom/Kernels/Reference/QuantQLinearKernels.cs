using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>QLinearMatMul and QLinearConv: an exact int32 product of centred operands, requantized to the output scale.</summary>
[KernelRegistrations]
internal static class QuantQLinearKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("QLinearMatMul", _ => ConvKernels.Guard(MatMulIntegerKernels.Int8Types, new QLinearMatMulKernel()), 10);
        r.Add("QLinearConv", info => ConvKernels.Guard(MatMulIntegerKernels.Int8Types, new QLinearConvKernel(info)), 10);
    }

    /// <summary>
    /// y = saturate(round_half_even(acc · multiplier[c]) + y_zero_point), c = (e / inner) mod channels. Each
    /// multiplier is in_scale · w_scale[c] / y_scale computed in the scales' dtype (as ONNX's reference
    /// does in NumPy); the product with the int32 sum is exact in float64.
    /// </summary>
    public static void Requantize(KernelContext ctx, ReadOnlySpan<int> acc, Tensor inScale, Tensor wScale, Tensor yScale, Tensor? yZero,
        DataType outType, int inner, Tensor y)
    {
        if (inScale.Length != 1 || yScale.Length != 1) throw ctx.Fail("input and output scales must be scalars");
        if (yZero is not null && yZero.Length != 1) throw ctx.Fail("y_zero_point must be a scalar");
        var range = QuantValues.IntegerRange(outType) ?? throw ctx.Fail($"cannot requantize to {outType.Name()}");
        double a = QuantValues.ReadDouble(inScale)[0], s = QuantValues.ReadDouble(yScale)[0];
        var w = QuantValues.ReadDouble(wScale);
        var dt = wScale.DataType;
        var multipliers = w.Select(wv => dt switch
        {
            DataType.Float16 => (double)(Half)((float)(Half)(a * wv) / (float)s),
            DataType.BFloat16 => (double)(BFloat16)((float)(BFloat16)(a * wv) / (float)s),
            DataType.Double => a * wv / s,
            _ => (double)((float)(a * wv) / (float)s),
        }).ToArray();
        int zp = yZero is null ? 0 : QuantValues.ReadInt(yZero)[0];
        var q = new int[acc.Length];
        for (int e = 0; e < acc.Length; e++)
        {
            double v = Math.Round(acc[e] * multipliers[e / inner % multipliers.Length], MidpointRounding.ToEven) + zp;
            q[e] = (int)Math.Clamp(v, range.Min, range.Max);
        }
        QuantValues.WriteInt(y, q);
    }
}

/// <summary>Inputs: a, a_scale, a_zero_point, b, b_scale (scalar or per column), b_zero_point, y_scale, y_zero_point.</summary>
internal sealed class QLinearMatMulKernel : Kernel
{
    public override void Run(KernelContext ctx)
    {
        var bScale = ctx.Input(4);
        var yZero = ctx.OptionalInput(7);
        var acc = MatMulIntegerKernels.Multiply(ctx, ctx.Input(0), ctx.OptionalInput(2), ctx.Input(3), ctx.OptionalInput(5), out var s);
        if (bScale.Length != 1 && bScale.Length != s.N) throw ctx.Fail($"b_scale has {bScale.Length} values; it needs 1 or {s.N}");
        var outType = yZero?.DataType ?? ctx.Input(0).DataType;
        var y = ctx.AllocateOutput(0, outType, s.OutputShape);
        QuantQLinearKernels.Requantize(ctx, acc, ctx.Input(1), bScale, ctx.Input(6), yZero, outType, 1, y);
    }
}

/// <summary>Inputs: x, x_scale, x_zero_point, w, w_scale (scalar or per output channel), w_zero_point, y_scale, y_zero_point, B (int32).</summary>
internal sealed class QLinearConvKernel(KernelInfo info) : Kernel
{
    private readonly ConvAttributes _attrs = ConvAttributes.Parse(info.Node, info.Fail);

    public override void Run(KernelContext ctx)
    {
        var wScale = ctx.Input(4);
        var yZero = ctx.OptionalInput(7);
        var acc = ConvIntegerKernels.Convolve(ctx, _attrs, ctx.Input(0), ctx.OptionalInput(2), ctx.Input(3), ctx.OptionalInput(5), ctx.OptionalInput(8), out var p);
        if (wScale.Length != 1 && wScale.Length != p.OutChannels) throw ctx.Fail($"w_scale has {wScale.Length} values; it needs 1 or {p.OutChannels}");
        var outType = yZero?.DataType ?? ctx.Input(0).DataType;
        var y = ctx.AllocateOutput(0, outType, p.OutputShape);
        QuantQLinearKernels.Requantize(ctx, acc, ctx.Input(1), wScale, ctx.Input(6), yZero, outType, Math.Max(1, p.Geometry.OutputSize), y);
    }
}
