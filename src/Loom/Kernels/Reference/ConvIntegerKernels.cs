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
        if (p.OutChannelsPerGroup < 4 || p.GroupDepth == 0)
            ConvDirect.Run<int>(xi, wi, bias is null ? default : bias.AsSpan<int>(), y, p.Batch, p.Channels, p.OutChannels, p.Group, g);
        else
        {
            ConvolveExact(p, g, xi, wi, y);
            if (bias is not null) AddBias(y, bias.AsSpan<int>(), g.OutputSize);
        }
        return y;
    }

    /// <summary>The GEMM path of <see cref="ConvKernel"/>, made exact in int32 by <see cref="GemmExactInt"/>.</summary>
    private static unsafe void ConvolveExact(ConvProblem p, Conv3D g, int[] xi, int[] wi, int[] y)
    {
        var xf = Array.ConvertAll(xi, v => (float)v);
        var wf = Array.ConvertAll(wi, v => (float)v);
        int chunk = GemmExactInt.ChunkDepth(GemmExactInt.MaxAbs(xf), GemmExactInt.MaxAbs(wf));
        int cg = p.ChannelsPerGroup, mg = p.OutChannelsPerGroup, kg = p.GroupDepth, inSize = g.InputSize, outSize = g.OutputSize;
        fixed (float* px = xf, pw = wf)
        fixed (int* py = y)
            for (int n = 0; n < p.Batch; n++)
                for (int gi = 0; gi < p.Group; gi++)
                {
                    float* xg = px + ((long)n * p.Channels + gi * cg) * inSize, wg = pw + (long)gi * mg * kg;
                    int* yg = py + ((long)n * p.OutChannels + gi * mg) * outSize;
                    if (g.IsPointwise) GemmExactInt.MultiplyAdd(mg, outSize, kg, wg, kg, new GemmDenseB(xg, outSize, false), yg, chunk);
                    else GemmExactInt.MultiplyAdd(mg, outSize, kg, wg, kg, new ConvIm2ColB(xg, g), yg, chunk);
                }
    }

    private static void AddBias(int[] y, ReadOnlySpan<int> bias, int size)
    {
        for (int i = 0; i < y.Length / Math.Max(size, 1); i++)
            foreach (ref var e in y.AsSpan(i * size, size)) e += bias[i % bias.Length];
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
