namespace Loom.Kernels.Common;

/// <summary>Reading and writing the element types of the quantization operators.</summary>
internal static class QuantValues
{
    /// <summary>The range an integer quantized type saturates to, or null for non-integer types.</summary>
    public static (int Min, int Max)? IntegerRange(DataType t) => t switch
    {
        DataType.UInt8 => (0, 255),
        DataType.Int8 => (-128, 127),
        DataType.UInt16 => (0, 65535),
        DataType.Int16 => (-32768, 32767),
        DataType.UInt4 => (0, 15),
        DataType.Int4 => (-8, 7),
        DataType.UInt2 => (0, 3),
        DataType.Int2 => (-2, 1),
        DataType.Int32 => (int.MinValue, int.MaxValue),
        _ => null,
    };

    /// <summary>Every element as float64 (exact for all these types; small floats decoded).</summary>
    public static double[] ReadDouble(Tensor t)
    {
        var r = new double[t.Length];
        // Dispatch on the dtype's storage type: CLR type patterns cannot tell byte[] from sbyte[].
        var clr = t.DataType.ClrType();
        switch (clr)
        {
            case var _ when clr == typeof(float): Fill(r, t.AsSpan<float>(), v => v); break;
            case var _ when clr == typeof(double): t.AsSpan<double>().CopyTo(r); break;
            case var _ when clr == typeof(Half): Fill(r, t.AsSpan<Half>(), v => (double)v); break;
            case var _ when clr == typeof(BFloat16): Fill(r, t.AsSpan<BFloat16>(), v => (double)v); break;
            case var _ when clr == typeof(sbyte): Fill(r, t.AsSpan<sbyte>(), v => v); break;
            case var _ when clr == typeof(byte) && QuantFloat8.IsSmallFloat(t.DataType):
                var dt = t.DataType;
                Fill(r, t.AsSpan<byte>(), v => QuantFloat8.ToFloat(v, dt));
                break;
            case var _ when clr == typeof(byte): Fill(r, t.AsSpan<byte>(), v => v); break;
            case var _ when clr == typeof(short): Fill(r, t.AsSpan<short>(), v => v); break;
            case var _ when clr == typeof(ushort): Fill(r, t.AsSpan<ushort>(), v => v); break;
            case var _ when clr == typeof(int): Fill(r, t.AsSpan<int>(), v => v); break;
            case var _ when clr == typeof(uint): Fill(r, t.AsSpan<uint>(), v => v); break;
            case var _ when clr == typeof(long): Fill(r, t.AsSpan<long>(), v => v); break;
            default: throw new InvalidOperationException($"cannot read {t.DataType.Name()} as a number");
        }
        return r;
    }

    /// <summary>Integer elements (int8/uint8/int16/uint16/int4/uint4/int2/uint2/int32) widened to int.</summary>
    public static int[] ReadInt(Tensor t)
    {
        var r = new int[t.Length];
        var clr = t.DataType.ClrType();
        switch (clr)
        {
            case var _ when clr == typeof(sbyte): Fill(r, t.AsSpan<sbyte>(), v => v); break;
            case var _ when clr == typeof(byte) && !QuantFloat8.IsSmallFloat(t.DataType): Fill(r, t.AsSpan<byte>(), v => v); break;
            case var _ when clr == typeof(short): Fill(r, t.AsSpan<short>(), v => v); break;
            case var _ when clr == typeof(ushort): Fill(r, t.AsSpan<ushort>(), v => v); break;
            case var _ when clr == typeof(int): t.AsSpan<int>().CopyTo(r); break;
            default: throw new InvalidOperationException($"cannot read {t.DataType.Name()} as integers");
        }
        return r;
    }

    /// <summary>
    /// x − zero_point as int32, the zero point scalar or one per row of <paramref name="rowLength"/>
    /// elements (cycling, so a per-row vector applies to every batch).
    /// </summary>
    public static int[] CenterRows(Tensor x, Tensor? zeroPoint, int rowLength)
    {
        var r = ReadInt(x);
        if (zeroPoint is null) return r;
        var z = ReadInt(zeroPoint);
        if (z.Length == 1) { foreach (ref var v in r.AsSpan()) v -= z[0]; return r; }
        for (int e = 0; e < r.Length; e++) r[e] -= z[e / rowLength % z.Length];
        return r;
    }

    /// <summary>x − zero_point as int32 for a [..., k, n] tensor whose zero point is scalar or one per column (per batch).</summary>
    public static int[] CenterColumns(Tensor x, Tensor? zeroPoint, int k, int n)
    {
        var r = ReadInt(x);
        if (zeroPoint is null) return r;
        var z = ReadInt(zeroPoint);
        for (int e = 0; e < r.Length; e++) r[e] -= z.Length == 1 ? z[0] : z[(e / (k * n) * n + e % n) % z.Length];
        return r;
    }

    /// <summary>Stores in-range integers into an integer tensor of any quantized storage.</summary>
    public static void WriteInt(Tensor t, ReadOnlySpan<int> values)
    {
        var clr = t.DataType.ClrType();
        switch (clr)
        {
            case var _ when clr == typeof(sbyte): Store(t.AsSpan<sbyte>(), values, v => (sbyte)v); break;
            case var _ when clr == typeof(byte): Store(t.AsSpan<byte>(), values, v => (byte)v); break;
            case var _ when clr == typeof(short): Store(t.AsSpan<short>(), values, v => (short)v); break;
            case var _ when clr == typeof(ushort): Store(t.AsSpan<ushort>(), values, v => (ushort)v); break;
            case var _ when clr == typeof(int): values.CopyTo(t.AsSpan<int>()); break;
            default: throw new InvalidOperationException($"cannot store integers as {t.DataType.Name()}");
        }
    }

    /// <summary>Stores float32 values into a float32/float16/bfloat16 tensor.</summary>
    public static void WriteFloat(Tensor t, ReadOnlySpan<float> values) => GemmFloatData.FromFloat(values, t);

    private static void Fill<TIn, TOut>(TOut[] dst, ReadOnlySpan<TIn> src, Func<TIn, TOut> f)
    {
        for (int i = 0; i < src.Length; i++) dst[i] = f(src[i]);
    }

    private static void Store<T>(Span<T> dst, ReadOnlySpan<int> src, Func<int, T> f)
    {
        for (int i = 0; i < src.Length; i++) dst[i] = f(src[i]);
    }
}
