namespace Loom.Kernels.Common;

/// <summary>
/// Element conversions shared by the image, signal and detection kernels, which compute in double
/// (as ONNX's reference does) and store in the tensor's own dtype.
/// </summary>
internal static class ImageNumerics
{
    /// <summary>True for the dtypes these kernels can read as numbers.</summary>
    public static bool IsNumeric(DataType t) => t is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16
        or DataType.Int8 or DataType.UInt8 or DataType.Int16 or DataType.UInt16 or DataType.Int32 or DataType.UInt32
        or DataType.Int64 or DataType.UInt64 or DataType.Bool;

    /// <summary>The dtypes these kernels compute on (for kernel registrations).</summary>
    public static readonly DataType[] NumericTypes =
    [
        DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16, DataType.Int8, DataType.UInt8,
        DataType.Int16, DataType.UInt16, DataType.Int32, DataType.UInt32, DataType.Int64, DataType.UInt64,
    ];

    /// <summary>The elements of a numeric tensor as doubles.</summary>
    public static double[] ToDoubles(Tensor t)
    {
        var r = new double[t.Length];
        switch (t.DataType)
        {
            case DataType.Float: Copy(t.AsSpan<float>(), r, x => x); break;
            case DataType.Double: t.AsSpan<double>().CopyTo(r); break;
            case DataType.Float16: Copy(t.AsSpan<Half>(), r, x => (double)x); break;
            case DataType.BFloat16: Copy(t.AsSpan<BFloat16>(), r, x => (double)x); break;
            case DataType.Int8: Copy(t.AsSpan<sbyte>(), r, x => x); break;
            case DataType.UInt8: Copy(t.AsSpan<byte>(), r, x => x); break;
            case DataType.Int16: Copy(t.AsSpan<short>(), r, x => x); break;
            case DataType.UInt16: Copy(t.AsSpan<ushort>(), r, x => x); break;
            case DataType.Int32: Copy(t.AsSpan<int>(), r, x => x); break;
            case DataType.UInt32: Copy(t.AsSpan<uint>(), r, x => x); break;
            case DataType.Int64: Copy(t.AsSpan<long>(), r, x => x); break;
            case DataType.UInt64: Copy(t.AsSpan<ulong>(), r, x => x); break;
            case DataType.Bool: Copy(t.AsSpan<bool>(), r, x => x ? 1 : 0); break;
            default: throw new UnsupportedException($"{t.DataType.Name()} elements cannot be read as numbers");
        }
        return r;
    }

    /// <summary>
    /// Stores doubles into a tensor of the same length. Integers are rounded half to even and
    /// saturated, as ONNX's reference does when it casts a computed result back to an integer input type.
    /// </summary>
    public static void Store(ReadOnlySpan<double> values, Tensor t) => Store(values, t, truncate: false);

    /// <summary>As <see cref="Store(ReadOnlySpan{double}, Tensor)"/>, but integers truncate toward zero when <paramref name="truncate"/> (NumPy's astype).</summary>
    public static void Store(ReadOnlySpan<double> values, Tensor t, bool truncate)
    {
        if (truncate && t.DataType.IsInteger())
        {
            var truncated = new double[values.Length];
            for (int i = 0; i < values.Length; i++) truncated[i] = Math.Truncate(values[i]);
            values = truncated;
        }
        switch (t.DataType)
        {
            case DataType.Float: Fill(values, t.AsSpan<float>(), x => (float)x); break;
            case DataType.Double: values.CopyTo(t.AsSpan<double>()); break;
            case DataType.Float16: Fill(values, t.AsSpan<Half>(), x => (Half)x); break;
            case DataType.BFloat16: Fill(values, t.AsSpan<BFloat16>(), x => (BFloat16)x); break;
            case DataType.Int8: Fill(values, t.AsSpan<sbyte>(), x => (sbyte)Saturate(x, sbyte.MinValue, sbyte.MaxValue)); break;
            case DataType.UInt8: Fill(values, t.AsSpan<byte>(), x => (byte)Saturate(x, byte.MinValue, byte.MaxValue)); break;
            case DataType.Int16: Fill(values, t.AsSpan<short>(), x => (short)Saturate(x, short.MinValue, short.MaxValue)); break;
            case DataType.UInt16: Fill(values, t.AsSpan<ushort>(), x => (ushort)Saturate(x, ushort.MinValue, ushort.MaxValue)); break;
            case DataType.Int32: Fill(values, t.AsSpan<int>(), x => (int)Saturate(x, int.MinValue, int.MaxValue)); break;
            case DataType.UInt32: Fill(values, t.AsSpan<uint>(), x => (uint)Saturate(x, uint.MinValue, uint.MaxValue)); break;
            case DataType.Int64: Fill(values, t.AsSpan<long>(), x => (long)Saturate(x, long.MinValue, long.MaxValue)); break;
            case DataType.UInt64: Fill(values, t.AsSpan<ulong>(), x => (ulong)Saturate(x, 0, ulong.MaxValue)); break;
            case DataType.Bool: Fill(values, t.AsSpan<bool>(), x => x != 0); break;
            default: throw new UnsupportedException($"{t.DataType.Name()} elements cannot be written from numbers");
        }
    }

    /// <summary>A one-element tensor of <paramref name="dataType"/> holding <paramref name="value"/> (converted as <see cref="Store"/> does).</summary>
    public static Tensor ScalarOf(DataType dataType, double value)
    {
        var t = Tensor.Zeros(dataType, [1]);
        if (dataType != DataType.String) Store([value], t);
        return t;
    }

    /// <summary>The elements of an integer input as longs.</summary>
    public static long[] ReadLongs(Tensor t) => t.DataType switch
    {
        DataType.Int64 => t.ToArray<long>(),
        DataType.Int32 => Array.ConvertAll(t.ToArray<int>(), x => (long)x),
        _ => Array.ConvertAll(ToDoubles(t), x => (long)x),
    };

    private static double Saturate(double x, double min, double max)
    {
        if (double.IsNaN(x)) return 0;
        x = Math.Round(x, MidpointRounding.ToEven);
        return x < min ? min : x > max ? max : x;
    }

    private static void Copy<T>(ReadOnlySpan<T> src, double[] dst, Func<T, double> f)
    {
        for (int i = 0; i < src.Length; i++) dst[i] = f(src[i]);
    }

    private static void Fill<T>(ReadOnlySpan<double> src, Span<T> dst, Func<double, T> f)
    {
        for (int i = 0; i < src.Length; i++) dst[i] = f(src[i]);
    }
}
