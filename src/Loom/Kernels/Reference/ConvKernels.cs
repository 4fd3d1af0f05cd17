using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Conv (opsets 1, 11, 22) for float32, float64, float16 and bfloat16.</summary>
[KernelRegistrations]
internal static class ConvKernels
{
    public static readonly DataType[] FloatTypes = [DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16];

    public static void Register(KernelRegistry r)
    {
        r.Add("Conv", info => Guard(FloatTypes, new ConvKernel(info)), 1);
    }

    /// <summary>
    /// Checks the dtype of input <paramref name="input"/> when the node runs. Kernels are registered for
    /// every dtype and check at run time, so a node whose input dtype inference could not tell still
    /// gets its kernel.
    /// </summary>
    public static Kernel Guard(DataType[] types, Kernel inner, int input = 0) => new DtypeGuard(types, inner, input);

    /// <summary>Fails unless every given tensor has the dtype of the first.</summary>
    public static void RequireSameDtype(KernelContext ctx, params Tensor?[] tensors)
    {
        var dt = tensors[0]!.DataType;
        foreach (var t in tensors)
            if (t is not null && t.DataType != dt) throw ctx.Fail($"inputs mix {dt.Name()} and {t.DataType.Name()}");
    }

    private sealed class DtypeGuard(DataType[] types, Kernel inner, int input) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var dt = ctx.Input(input).DataType;
            if (Array.IndexOf(types, dt) < 0)
                throw ctx.Fail($"{ctx.Node.OpType} does not support {dt.Name()} input {input} (supported: {string.Join(", ", types.Select(t => t.Name()))})");
            inner.Run(ctx);
        }
    }
}

/// <summary>
/// float32 convolution as one GEMM per image and group: Y_g[M/g × out] = W_g[M/g × C/g·k] · im2col(X_g),
/// with the im2col operand packed straight from the image (1×1 convolutions read X as it is).
/// Groups with fewer than <see cref="MinGemmRows"/> output channels (depthwise) are computed directly.
/// Constant weights are packed once, per group, when the session is created.
/// </summary>
internal sealed unsafe class ConvKernel : Kernel
{
    private const int MinGemmRows = 4;
    private readonly ConvAttributes _attrs;
    private readonly GemmPackedA[]? _packed;

    public ConvKernel(KernelInfo info)
    {
        _attrs = ConvAttributes.Parse(info.Node, info.Fail);
        if (info.ConstantInput(1) is { DataType: DataType.Float, Rank: >= 3 } w && w.Shape[0] % _attrs.Group == 0)
        {
            int m = w.Shape[0], mg = m / _attrs.Group, kg = m == 0 ? 0 : w.Length / m;
            if (mg >= MinGemmRows)
                fixed (float* pw = w.AsSpan<float>())
                {
                    var packed = new GemmPackedA[_attrs.Group];
                    for (int g = 0; g < packed.Length; g++)
                        packed[g] = new GemmPackedA(GemmKernelSet.Best, mg, kg, pw + (long)g * mg * kg, kg, transposed: false);
                    _packed = packed;
                }
        }
    }

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var w = ctx.Input(1);
        var b = ctx.OptionalInput(2);
        ConvKernels.RequireSameDtype(ctx, x, w, b);
        var p = ConvProblem.Create(_attrs, x.Shape, w.Shape, ctx.Fail);
        if (b is not null && (b.Rank != 1 || b.Length != p.OutChannels))
            throw ctx.Fail($"bias has shape {ShapeMath.Format(b.Shape)}; expected [{p.OutChannels}]");
        var g = p.As3D(ctx.Fail);
        var y = ctx.AllocateOutput(0, x.DataType, p.OutputShape);
        if (y.Length == 0) return;
        switch (x.DataType)
        {
            case DataType.Float:
                RunFloat(p, g, x.AsSpan<float>(), w.AsSpan<float>(), b is null ? default : b.AsSpan<float>(), y.AsSpan<float>(), _packed);
                break;
            case DataType.Double:
                ConvDirect.Run<double>(x.AsSpan<double>(), w.AsSpan<double>(), b is null ? default : b.AsSpan<double>(), y.AsSpan<double>(),
                    p.Batch, p.Channels, p.OutChannels, p.Group, g);
                break;
            default:
                var yf = new float[y.Length];
                RunFloat(p, g, GemmFloatData.ToFloat(x), GemmFloatData.ToFloat(w), b is null ? default : GemmFloatData.ToFloat(b), yf, null);
                GemmFloatData.FromFloat(yf, y);
                break;
        }
    }

    /// <summary>Y = conv(X, W) + bias in float32; <paramref name="packed"/> holds W per group when it was constant.</summary>
    public static void RunFloat(ConvProblem p, Conv3D g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias,
        Span<float> y, GemmPackedA[]? packed)
    {
        int mg = p.OutChannelsPerGroup;
        if (mg < MinGemmRows || p.GroupDepth == 0)
        {
            ConvDirect.Run(x, w, bias, y, p.Batch, p.Channels, p.OutChannels, p.Group, g);
            return;
        }
        int cg = p.ChannelsPerGroup, kg = p.GroupDepth, inSize = g.InputSize, outSize = g.OutputSize;
        var ks = packed?[0].Kernels ?? GemmKernelSet.Best;
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            for (int n = 0; n < p.Batch; n++)
                for (int gi = 0; gi < p.Group; gi++)
                {
                    float* yg = py + ((long)n * p.OutChannels + gi * mg) * outSize;
                    float* xg = px + ((long)n * p.Channels + gi * cg) * inSize;
                    bool accumulate = pb != null;
                    if (accumulate)
                        for (int i = 0; i < mg; i++) new Span<float>(yg + (long)i * outSize, outSize).Fill(pb[gi * mg + i]);
                    if (packed is not null)
                        Multiply(ks, mg, outSize, kg, packed[gi].AsOperand(), xg, g, yg, accumulate);
                    else
                        Multiply(ks, mg, outSize, kg, new GemmDenseA(pw + (long)gi * mg * kg, kg, false, 1), xg, g, yg, accumulate);
                }
        }
    }

    private static void Multiply<TA>(GemmKernelSet ks, int m, int n, int k, TA a, float* x, Conv3D g, float* y, bool accumulate)
        where TA : struct, IGemmA
    {
        if (g.IsPointwise) GemmCore.Multiply(ks, m, n, k, a, new GemmDenseB(x, n, false), y, n, accumulate);
        else GemmCore.Multiply(ks, m, n, k, a, new ConvIm2ColB(x, g), y, n, accumulate);
    }
}
