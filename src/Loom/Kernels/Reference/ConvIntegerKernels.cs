using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>ConvInteger (opset 10): conv(X − x_zero_point, W − w_zero_point) in exact int32.</summary>
[KernelRegistrations]
internal static class ConvIntegerKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("ConvInteger", info => ConvKernels.Guard(MatMulIntegerKernels.Int8Types, new ConvIntegerKernel(info)), 10);
    }

    /// <summary>
    /// The int32 convolution of centred operands (x's zero point scalar, w's scalar or one per output
    /// channel), plus an optional int32 bias; shared with QLinearConv.
    /// </summary>
    public static int[] Convolve(KernelContext ctx, ConvAttributes attrs, Tensor x, Tensor? xZero, Tensor w, Tensor? wZero, Tensor? bias, out ConvProblem p)
    {
        p = ConvProblem.Create(attrs, x.Shape, w.Shape, ctx.Fail);
        if (xZero is not null && xZero.Length != 1) throw ctx.Fail("x_zero_point must be a scalar");
        if (wZero is not null && wZero.Length != 1 && wZero.Length != p.OutChannels)
            throw ctx.Fail($"w_zero_point has {wZero.Length} values; it needs 1 or {p.OutChannels}");
        if (bias is not null && bias.Length != p.OutChannels) throw ctx.Fail($"bias has {bias.Length} values; it needs {p.OutChannels}");
        var g = p.As3D(ctx.Fail);
        var xi = QuantValues.CenterRows(x, xZero, 1);
        var wi = QuantValues.CenterRows(w, wZero, Math.Max(1, p.OutChannels == 0 ? 1 : w.Length / p.OutChannels));
        var y = new int[ShapeMath.Size(p.OutputShape)];
        ConvDirect.Run<int>(xi, wi, bias is null ? default : bias.AsSpan<int>(), y, p.Batch, p.Channels, p.OutChannels, p.Group, g);
        return y;
    }
}

internal sealed class ConvIntegerKernel(KernelInfo info) : Kernel
{
    private readonly ConvAttributes _attrs = ConvAttributes.Parse(info.Node, info.Fail);

    public override void Run(KernelContext ctx)
    {
        var acc = ConvIntegerKernels.Convolve(ctx, _attrs, ctx.Input(0), ctx.OptionalInput(2), ctx.Input(1), ctx.OptionalInput(3), null, out var p);
        acc.CopyTo(ctx.AllocateOutput(0, DataType.Int32, p.OutputShape).AsSpan<int>());
    }
}
