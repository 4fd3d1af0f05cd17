namespace Loom.Kernels.Common;

/// <summary>Reading index, axis and shape tensors (of any integer or, for OneHot, numeric dtype) as longs.</summary>
internal static class ShapeIntegers
{
    /// <summary>The elements as longs, without copying an int64 tensor.</summary>
    public static ReadOnlySpan<long> Read(Tensor t) => t.DataType == DataType.Int64 ? t.AsSpan<long>() : ToLongs(t);

    /// <summary>Any numeric tensor converted to longs (floating point truncates toward zero, as a C cast does).</summary>
    public static long[] ToLongs(Tensor t)
    {
        var r = new long[t.Length];
        switch (t.DataType)
        {
            case DataType.Int64: t.AsSpan<long>().CopyTo(r); break;
            case DataType.Int32: Widen(t.AsSpan<int>(), r); break;
            case DataType.Int16: Widen(t.AsSpan<short>(), r); break;
            case DataType.Int8 or DataType.Int4 or DataType.Int2: Widen(t.AsSpan<sbyte>(), r); break;
            case DataType.UInt8 or DataType.UInt4 or DataType.UInt2: Widen(t.AsSpan<byte>(), r); break;
            case DataType.UInt16: Widen(t.AsSpan<ushort>(), r); break;
            case DataType.UInt32: Widen(t.AsSpan<uint>(), r); break;
            case DataType.UInt64: { var s = t.AsSpan<ulong>(); for (int i = 0; i < r.Length; i++) r[i] = (long)s[i]; break; }
            case DataType.Bool: { var s = t.AsSpan<bool>(); for (int i = 0; i < r.Length; i++) r[i] = s[i] ? 1 : 0; break; }
            case DataType.Float: { var s = t.AsSpan<float>(); for (int i = 0; i < r.Length; i++) r[i] = (long)s[i]; break; }
            case DataType.Double: { var s = t.AsSpan<double>(); for (int i = 0; i < r.Length; i++) r[i] = (long)s[i]; break; }
            case DataType.Float16: { var s = t.AsSpan<Half>(); for (int i = 0; i < r.Length; i++) r[i] = (long)(float)s[i]; break; }
            case DataType.BFloat16: { var s = t.AsSpan<BFloat16>(); for (int i = 0; i < r.Length; i++) r[i] = (long)(float)s[i]; break; }
            default: throw new UnsupportedException($"a {t.DataType.Name()} tensor cannot be read as integers");
        }
        return r;
    }

    private static void Widen<T>(ReadOnlySpan<T> s, long[] r) where T : System.Numerics.IBinaryInteger<T>
    {
        for (int i = 0; i < r.Length; i++) r[i] = long.CreateTruncating(s[i]);
    }

    /// <summary>The single element of a scalar (or one-element) tensor.</summary>
    public static long Scalar(Tensor t, Runtime.KernelContext ctx, string what)
    {
        if (t.Length != 1) throw ctx.Fail($"{what} must have exactly one element, got shape {ShapeMath.Format(t.Shape)}");
        return Read(t)[0];
    }

    /// <summary>Turns the possibly negative index <paramref name="i"/> into [0, <paramref name="dim"/>), or fails naming it.</summary>
    public static int Normalize(long i, int dim, Runtime.KernelContext ctx, string what)
    {
        long j = i < 0 ? i + dim : i;
        if ((ulong)j >= (ulong)dim) throw ctx.Fail($"{what} {i} is out of range for a dimension of size {dim}");
        return (int)j;
    }

    /// <summary>A one-element tensor of <paramref name="dataType"/> holding <paramref name="value"/> (for float attributes such as Pad's value).</summary>
    public static Tensor ScalarOf(DataType dataType, double value, int[] shape)
    {
        var t = Tensor.Zeros(dataType, shape);
        switch (dataType)
        {
            case DataType.Float: t.AsSpan<float>().Fill((float)value); break;
            case DataType.Double: t.AsSpan<double>().Fill(value); break;
            case DataType.Float16: t.AsSpan<Half>().Fill((Half)value); break;
            case DataType.BFloat16: t.AsSpan<BFloat16>().Fill((BFloat16)value); break;
            case DataType.Int64: t.AsSpan<long>().Fill((long)value); break;
            case DataType.Int32: t.AsSpan<int>().Fill((int)value); break;
            case DataType.Int16: t.AsSpan<short>().Fill((short)value); break;
            case DataType.Int8: t.AsSpan<sbyte>().Fill((sbyte)value); break;
            case DataType.UInt64: t.AsSpan<ulong>().Fill((ulong)value); break;
            case DataType.UInt32: t.AsSpan<uint>().Fill((uint)value); break;
            case DataType.UInt16: t.AsSpan<ushort>().Fill((ushort)value); break;
            case DataType.UInt8: t.AsSpan<byte>().Fill((byte)value); break;
            case DataType.Bool: t.AsSpan<bool>().Fill(value != 0); break;
            default: if (value != 0) throw new UnsupportedException($"cannot make a {dataType.Name()} value {value}"); break;
        }
        return t;
    }
}
