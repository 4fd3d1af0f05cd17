using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>Conversions between a tensor of any numeric dtype and the doubles the random kernels compute with.</summary>
internal static class RandomValues
{
    /// <summary>The elements of a floating-point tensor as doubles.</summary>
    public static double[] Read(KernelContext ctx, Tensor t) => t.DataType switch
    {
        DataType.Float => Convert(t.AsSpan<float>(), v => v),
        DataType.Double => t.ToArray<double>(),
        DataType.Float16 => Convert(t.AsSpan<Half>(), v => (double)v),
        DataType.BFloat16 => Convert(t.AsSpan<BFloat16>(), v => (double)v),
        _ => throw ctx.Fail($"the input must be float16, bfloat16, float or double, not {t.DataType.Name()}"),
    };

    private static double[] Convert<T>(ReadOnlySpan<T> span, Func<T, double> f)
    {
        var r = new double[span.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f(span[i]);
        return r;
    }

    /// <summary>Sets element i of <paramref name="t"/> to <paramref name="value"/>(i), in order, converted to its dtype.</summary>
    public static void Fill(Tensor t, Func<int, double> value)
    {
        switch (t.DataType)
        {
            case DataType.Float: Store(t.AsSpan<float>(), value, v => (float)v); break;
            case DataType.Double: Store(t.AsSpan<double>(), value, v => v); break;
            case DataType.Float16: Store(t.AsSpan<Half>(), value, v => (Half)v); break;
            case DataType.BFloat16: Store(t.AsSpan<BFloat16>(), value, v => (BFloat16)v); break;
            case DataType.Int8: Store(t.AsSpan<sbyte>(), value, v => (sbyte)v); break;
            case DataType.Int16: Store(t.AsSpan<short>(), value, v => (short)v); break;
            case DataType.Int32: Store(t.AsSpan<int>(), value, v => (int)v); break;
            case DataType.Int64: Store(t.AsSpan<long>(), value, v => (long)v); break;
            case DataType.UInt8: Store(t.AsSpan<byte>(), value, v => (byte)v); break;
            case DataType.UInt16: Store(t.AsSpan<ushort>(), value, v => (ushort)v); break;
            case DataType.UInt32: Store(t.AsSpan<uint>(), value, v => (uint)v); break;
            case DataType.UInt64: Store(t.AsSpan<ulong>(), value, v => (ulong)v); break;
            case DataType.Bool: Store(t.AsSpan<bool>(), value, v => v != 0); break;
            default: throw new UnsupportedException($"random values of type {t.DataType.Name()} are not supported");
        }
    }

    private static void Store<T>(Span<T> span, Func<int, double> value, Func<double, T> convert)
    {
        for (int i = 0; i < span.Length; i++) span[i] = convert(value(i));
    }
}
