using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>MaxPool (with Indices), AveragePool and LpPool over 1 to 3 spatial axes.</summary>
[KernelRegistrations]
internal static class PoolKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("MaxPool", info => ConvKernels.Guard([.. ConvKernels.FloatTypes, DataType.Int8, DataType.UInt8], new PoolKernel(info, PoolKind.Max)), 1);
        r.Add("AveragePool", info => ConvKernels.Guard(ConvKernels.FloatTypes, new PoolKernel(info, PoolKind.Average)), 1);
        r.Add("LpPool", info => ConvKernels.Guard(ConvKernels.FloatTypes, new PoolKernel(info, PoolKind.Lp)), 1);
    }
}

internal enum PoolKind { Max, Average, Lp }

/// <summary>
/// One pooling node. Output sizes follow <see cref="ConvGeometry"/> (ceil_mode drops a last window that
/// would start in the end padding). float16/bfloat16 are pooled in float32.
/// </summary>
internal sealed class PoolKernel : Kernel
{
    private readonly PoolKind _kind;
    private readonly ConvAttributes _attrs;
    private readonly bool _countIncludePad, _columnMajor;
    private readonly double _p;

    public PoolKernel(KernelInfo info, PoolKind kind)
    {
        _kind = kind;
        _attrs = ConvAttributes.Parse(info.Node, info.Fail);
        if (_attrs.KernelShape is null) throw info.Fail("kernel_shape is required");
        _countIncludePad = info.GetInt("count_include_pad", 0) != 0;
        _columnMajor = info.GetInt("storage_order", 0) != 0;
        _p = kind == PoolKind.Lp ? info.GetFloat("p", 2) : 0;
        if (kind == PoolKind.Lp && _p <= 0) throw info.Fail($"p must be positive, not {_p}");
    }

    /// <summary>One input shape's geometry and output shape (cached per node).</summary>
    private sealed record Plan(ConvGeometry Geometry, Conv3D G, int[] Shape);

    private readonly ShapeKeyedCache<Plan> _plans = new();

    private Plan CreatePlan(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var kernel = _attrs.KernelShape!.Select(k => (int)k).ToArray();
        var geo = ConvGeometry.Compute(_attrs, x.Shape[2..], kernel, pool: true, ctx.Fail);
        if (geo.Rank > 3) throw ctx.Fail("pooling over more than 3 spatial axes is not supported");
        return new Plan(geo, new Conv3D(geo), [x.Shape[0], x.Shape[1], .. geo.Output]);
    }

    public override unsafe void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        if (x.Rank < 3) throw ctx.Fail($"input has shape {ShapeMath.Format(x.Shape)}; it needs [N, C, spatial...]");
        var (geo, g, shape) = _plans.Get(x.Shape, default, (this, ctx), static s => s.Item1.CreatePlan(s.ctx));
        int planes = x.Shape[0] * x.Shape[1];
        var y = ctx.AllocateOutput(0, x.DataType, shape, clear: false);
        var indices = _kind == PoolKind.Max && ctx.IsOutputRequested(1) ? ctx.AllocateOutput(1, DataType.Int64, shape).AsSpan<long>() : default;
        if (y.Length == 0) return;
        int rank = geo.Rank;
        int endD = rank >= 3 ? geo.PadEnd[rank - 3] : 0, endH = rank >= 2 ? geo.PadEnd[rank - 2] : 0, endW = geo.PadEnd[rank - 1];
        if (x.DataType == DataType.Float && indices.IsEmpty && _kind != PoolKind.Lp && PoolFloat.Supports(g))
        {
            fixed (float* px = x.AsSpan<float>(), py = y.AsSpan<float>())
                PoolFloat.Run(_kind == PoolKind.Max, px, py, planes, g, _countIncludePad, endH, endW, ctx.Pool);
            return;
        }
        if (_kind == PoolKind.Max)
        {
            switch (x.DataType)
            {
                case DataType.Float: PoolCore.Max<float>(x.AsSpan<float>(), y.AsSpan<float>(), indices, planes, g, _columnMajor); break;
                case DataType.Double: PoolCore.Max<double>(x.AsSpan<double>(), y.AsSpan<double>(), indices, planes, g, _columnMajor); break;
                case DataType.Int8: PoolCore.Max<sbyte>(x.AsSpan<sbyte>(), y.AsSpan<sbyte>(), indices, planes, g, _columnMajor); break;
                case DataType.UInt8: PoolCore.Max<byte>(x.AsSpan<byte>(), y.AsSpan<byte>(), indices, planes, g, _columnMajor); break;
                default:
                    var yf = new float[y.Length];
                    PoolCore.Max<float>(GemmFloatData.ToFloat(x), yf, indices, planes, g, _columnMajor);
                    GemmFloatData.FromFloat(yf, y);
                    break;
            }
            return;
        }
        switch (x.DataType)
        {
            case DataType.Float:
                PoolCore.AverageOrLp<float>(x.AsSpan<float>(), y.AsSpan<float>(), planes, g, _countIncludePad, endD, endH, endW, _p);
                break;
            case DataType.Double:
                PoolCore.AverageOrLp<double>(x.AsSpan<double>(), y.AsSpan<double>(), planes, g, _countIncludePad, endD, endH, endW, _p);
                break;
            default:
                var yf = new float[y.Length];
                PoolCore.AverageOrLp<float>(GemmFloatData.ToFloat(x), yf, planes, g, _countIncludePad, endD, endH, endW, _p);
                GemmFloatData.FromFloat(yf, y);
                break;
        }
    }
}
