using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>QuantizeLinear, DequantizeLinear (per tensor, per axis, blocked) and DynamicQuantizeLinear.</summary>
[KernelRegistrations]
internal static class QuantLinearKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("QuantizeLinear", info => ConvKernels.Guard([DataType.Float, DataType.Float16, DataType.BFloat16, DataType.Int32], new QuantizeLinearKernel(info)), 10);
        r.Add("DequantizeLinear", info => new DequantizeLinearKernel(info), 10);
        r.Add("DynamicQuantizeLinear", _ => ConvKernels.Guard([DataType.Float], new DynamicQuantizeLinearKernel()), 11);
    }

    /// <summary>The dtype a QuantizeLinear node produces: its zero point's, else output_dtype, else uint8.</summary>
    public static DataType QuantizeOutputType(DataType zeroPoint, long outputDtype) =>
        zeroPoint != DataType.Undefined ? zeroPoint : outputDtype != 0 ? (DataType)outputDtype : DataType.UInt8;

    /// <summary>The dtype a DequantizeLinear node produces: output_dtype, else its scale's (float32 for e8m0 scales).</summary>
    public static DataType DequantizeOutputType(DataType scale, long outputDtype) =>
        outputDtype != 0 ? (DataType)outputDtype : scale == DataType.Float8E8M0 ? DataType.Float : scale;
}

/// <summary>
/// y = saturate(round_half_even(x / scale) + zero_point). The quotient is rounded to the dtype NumPy's
/// promotion (or the precision attribute) gives it: float16/bfloat16 when x and scale both are, float64
/// for int32 x, else float32. Float8/float4 outputs convert x / scale + zero_point with the saturate flag.
/// </summary>
internal sealed class QuantizeLinearKernel : Kernel
{
    private readonly long _axis, _blockSize, _outputDtype, _precision;
    private readonly bool _saturate;

    public QuantizeLinearKernel(KernelInfo info)
    {
        _axis = info.GetInt("axis", 1);
        _blockSize = info.GetInt("block_size", 0);
        _outputDtype = info.GetInt("output_dtype", 0);
        _precision = info.GetInt("precision", 0);
        _saturate = info.GetInt("saturate", 1) != 0;
        if (_blockSize < 0) throw info.Fail("block_size must not be negative");
    }

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var scale = ctx.Input(1);
        var zp = ctx.OptionalInput(2);
        if (zp is not null && _outputDtype != 0 && (DataType)_outputDtype != zp.DataType)
            throw ctx.Fail($"output_dtype {((DataType)_outputDtype).Name()} differs from the zero point's {zp.DataType.Name()}");
        var outType = QuantLinearKernels.QuantizeOutputType(zp?.DataType ?? DataType.Undefined, _outputDtype);
        var range = QuantValues.IntegerRange(outType);
        if (range is null && !QuantFloat8.IsSmallFloat(outType) || outType is DataType.Int32 or DataType.Float8E8M0)
            throw ctx.Fail($"cannot quantize to {outType.Name()}");
        if (zp is not null && zp.Length != scale.Length)
            throw ctx.Fail($"zero point shape {ShapeMath.Format(zp.Shape)} differs from scale shape {ShapeMath.Format(scale.Shape)}");
        var layout = QuantLayout.Create(x.Shape, scale.Shape, _axis, _blockSize, ctx.Fail);
        var y = ctx.AllocateOutput(0, outType, x.Shape);
        var xs = QuantValues.ReadDouble(x);
        var ss = QuantValues.ReadDouble(scale);
        var zs = zp is null ? null : QuantValues.ReadDouble(zp);
        var rounding = _precision != 0 ? (DataType)_precision
            : x.DataType == scale.DataType && x.DataType is DataType.Float16 or DataType.BFloat16 ? x.DataType
            : x.DataType == DataType.Int32 ? DataType.Double : DataType.Float;
        var ints = range is not null ? new int[x.Length] : null;
        var codes = range is null ? y.AsSpan<byte>() : default;
        int e = 0;
        for (int o = 0; o < layout.Outer; o++)
            for (int a = 0; a < layout.AxisLength; a++)
                for (int i = 0; i < layout.Inner; i++, e++)
                {
                    int si = layout.ScaleIndex(o, a, i);
                    double q = Quotient(xs[e], ss[si], rounding), z = zs is null ? 0 : zs[si];
                    if (range is { } r)
                    {
                        double v = double.IsNaN(q) ? z : Math.Round(q, MidpointRounding.ToEven) + z;
                        ints![e] = (int)Math.Clamp(v, r.Min, r.Max);
                    }
                    else codes[e] = QuantFloat8.FromFloat((float)(q + z), outType, _saturate);
                }
        if (ints is not null) QuantValues.WriteInt(y, ints);
    }

    private static double Quotient(double x, double s, DataType rounding) => rounding switch
    {
        DataType.Double => x / s,
        DataType.Float16 => (double)(Half)((float)x / (float)s),
        DataType.BFloat16 => (double)(BFloat16)((float)x / (float)s),
        _ => (float)x / (float)s,
    };
}

/// <summary>y = (x − zero_point) · scale, computed in float32 and rounded to the output dtype.</summary>
internal sealed class DequantizeLinearKernel : Kernel
{
    private readonly long _axis, _blockSize, _outputDtype;

    public DequantizeLinearKernel(KernelInfo info)
    {
        _axis = info.GetInt("axis", 1);
        _blockSize = info.GetInt("block_size", 0);
        _outputDtype = info.GetInt("output_dtype", 0);
    }

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var scale = ctx.Input(1);
        var zp = ctx.OptionalInput(2);
        if (zp is not null && zp.DataType != x.DataType)
            throw ctx.Fail($"zero point is {zp.DataType.Name()} but x is {x.DataType.Name()}");
        if (zp is not null && zp.Length != scale.Length)
            throw ctx.Fail($"zero point shape {ShapeMath.Format(zp.Shape)} differs from scale shape {ShapeMath.Format(scale.Shape)}");
        var outType = QuantLinearKernels.DequantizeOutputType(scale.DataType, _outputDtype);
        if (outType is not (DataType.Float or DataType.Float16 or DataType.BFloat16)) throw ctx.Fail($"cannot dequantize to {outType.Name()}");
        var layout = QuantLayout.Create(x.Shape, scale.Shape, _axis, _blockSize, ctx.Fail);
        var y = ctx.AllocateOutput(0, outType, x.Shape);
        var ss = QuantValues.ReadDouble(scale);
        var result = new float[x.Length];
        bool integer = QuantValues.IntegerRange(x.DataType) is not null;
        int[]? xi = integer ? QuantValues.ReadInt(x) : null, zi = integer && zp is not null ? QuantValues.ReadInt(zp) : null;
        double[]? xf = integer ? null : QuantValues.ReadDouble(x), zf = !integer && zp is not null ? QuantValues.ReadDouble(zp) : null;
        int e = 0;
        for (int o = 0; o < layout.Outer; o++)
            for (int a = 0; a < layout.AxisLength; a++)
                for (int i = 0; i < layout.Inner; i++, e++)
                {
                    int si = layout.ScaleIndex(o, a, i);
                    float diff = integer ? xi![e] - (zi is null ? 0 : zi[si]) : (float)(xf![e] - (zf is null ? 0 : zf[si]));
                    result[e] = diff * (float)ss[si];
                }
        QuantValues.WriteFloat(y, result);
    }
}

/// <summary>
/// uint8 quantization with a scale and zero point chosen from the data: the range [min(x, 0), max(x, 0)]
/// maps onto [0, 255].
/// </summary>
internal sealed class DynamicQuantizeLinearKernel : Kernel
{
    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var xs = x.AsSpan<float>();
        float max = 0, min = 0;
        foreach (var v in xs)
        {
            if (v > max) max = v;
            if (v < min) min = v;
        }
        float scale = max == min ? 1f : (max - min) / 255f;
        float zpf = Math.Clamp(0f - min / scale, 0f, 255f);
        int zp = (int)MathF.Round(zpf, MidpointRounding.ToEven);
        var y = ctx.AllocateOutput(0, DataType.UInt8, x.Shape).AsSpan<byte>();
        for (int i = 0; i < xs.Length; i++)
            y[i] = (byte)Math.Clamp(MathF.Round(xs[i] / scale, MidpointRounding.ToEven) + zp, 0f, 255f);
        ctx.AllocateOutput(1, DataType.Float, []).AsSpan<float>()[0] = scale;
        ctx.AllocateOutput(2, DataType.UInt8, []).AsSpan<byte>()[0] = (byte)zp;
    }
}
