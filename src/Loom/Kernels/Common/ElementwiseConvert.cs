using System.Numerics;

namespace Loom.Kernels.Common;

/// <summary>Cast's attributes that shape conversions to float8 types.</summary>
internal readonly record struct CastOptions(bool Saturate = true, E8M0Rounding Rounding = E8M0Rounding.Up);

/// <summary>
/// Converts a tensor's elements to another dtype with ONNX Cast's rules. Integer (and bool) to integer
/// goes through int64 so wide values stay exact and narrowing wraps (two's complement); anything
/// involving a float type goes through float64 — exact for every source type but (u)int64 beyond 2^53,
/// which then rounds once more than a direct conversion would.
/// </summary>
internal static class ElementwiseConvert
{
    /// <summary>Writes <paramref name="source"/> converted into <paramref name="destination"/> (same element count).</summary>
    /// <returns>Null on success, else which string could not be parsed.</returns>
    public static string? Convert(Tensor source, Tensor destination, CastOptions options)
    {
        DataType from = source.DataType, to = destination.DataType;
        if (from == to) { Array.Copy(source.Buffer, source.Offset, destination.Buffer, destination.Offset, source.Length); return null; }
        if (to == DataType.String) { ToStrings(source, destination.AsSpan<string>()); return null; }
        if (from == DataType.String) return FromStrings(source.AsReadOnlySpan<string>(), destination, options);
        if (from == DataType.Bool && FromBools(source.AsReadOnlySpan<bool>(), destination)) return null;
        if (IsIntegerLike(from) && IsIntegerLike(to)) FromLongs(ToLongs(source), destination);
        else FromDoubles(ToDoubles(source), destination, options);
        return null;
    }

    /// <summary>
    /// Bool to float32/int32/int64 directly: comparisons feeding arithmetic (masks, the lowered tree
    /// programs' conditions and index steps) are common, and the staging arrays would cost more than the cast.
    /// </summary>
    private static bool FromBools(ReadOnlySpan<bool> s, Tensor destination)
    {
        switch (destination.DataType)
        {
            case DataType.Float: { var d = destination.AsSpan<float>(); for (int i = 0; i < s.Length; i++) d[i] = s[i] ? 1f : 0f; return true; }
            case DataType.Int32: { var d = destination.AsSpan<int>(); for (int i = 0; i < s.Length; i++) d[i] = s[i] ? 1 : 0; return true; }
            case DataType.Int64: { var d = destination.AsSpan<long>(); for (int i = 0; i < s.Length; i++) d[i] = s[i] ? 1 : 0; return true; }
            default: return false;
        }
    }

    private static bool IsIntegerLike(DataType t) => t.IsInteger() || t == DataType.Bool;

    public static double[] ToDoubles(Tensor t)
    {
        var r = new double[t.Length];
        switch (t.DataType)
        {
            case DataType.Float: Widen<float>(t, r); break;
            case DataType.Double: t.AsReadOnlySpan<double>().CopyTo(r); break;
            case DataType.Float16: Widen<Half>(t, r); break;
            case DataType.BFloat16: { var s = t.AsReadOnlySpan<BFloat16>(); for (int i = 0; i < r.Length; i++) r[i] = (float)s[i]; break; }
            case DataType.Int8 or DataType.Int4 or DataType.Int2: Widen<sbyte>(t, r); break;
            case DataType.UInt8 or DataType.UInt4 or DataType.UInt2: Widen<byte>(t, r); break;
            case DataType.Int16: Widen<short>(t, r); break;
            case DataType.UInt16: Widen<ushort>(t, r); break;
            case DataType.Int32: Widen<int>(t, r); break;
            case DataType.UInt32: Widen<uint>(t, r); break;
            case DataType.Int64: Widen<long>(t, r); break;
            case DataType.UInt64: Widen<ulong>(t, r); break;
            case DataType.Bool: { var s = t.AsReadOnlySpan<bool>(); for (int i = 0; i < r.Length; i++) r[i] = s[i] ? 1 : 0; break; }
            case DataType.Float8E8M0: { var s = t.AsReadOnlySpan<byte>(); for (int i = 0; i < r.Length; i++) r[i] = Float8E8M0.Decode(s[i]); break; }
            default:
            {
                var format = Float8Format.Of(t.DataType) ?? throw new UnsupportedException($"cannot convert from {t.DataType.Name()}");
                var s = t.AsReadOnlySpan<byte>();
                for (int i = 0; i < r.Length; i++) r[i] = format.Decode(s[i]);
                break;
            }
        }
        return r;
    }

    private static void Widen<T>(Tensor t, Span<double> r) where T : INumberBase<T>
    {
        var s = t.AsReadOnlySpan<T>();
        for (int i = 0; i < r.Length; i++) r[i] = double.CreateTruncating(s[i]);
    }

    /// <summary>Integer and bool elements as int64 (uint64 keeps its bits).</summary>
    private static long[] ToLongs(Tensor t)
    {
        var r = new long[t.Length];
        switch (t.DataType)
        {
            case DataType.Bool: { var s = t.AsReadOnlySpan<bool>(); for (int i = 0; i < r.Length; i++) r[i] = s[i] ? 1 : 0; break; }
            case DataType.Int8 or DataType.Int4 or DataType.Int2: ToLong<sbyte>(t, r); break;
            case DataType.UInt8 or DataType.UInt4 or DataType.UInt2: ToLong<byte>(t, r); break;
            case DataType.Int16: ToLong<short>(t, r); break;
            case DataType.UInt16: ToLong<ushort>(t, r); break;
            case DataType.Int32: ToLong<int>(t, r); break;
            case DataType.UInt32: ToLong<uint>(t, r); break;
            case DataType.Int64: t.AsReadOnlySpan<long>().CopyTo(r); break;
            case DataType.UInt64: ToLong<ulong>(t, r); break;
            default: throw new UnsupportedException($"{t.DataType.Name()} is not an integer type");
        }
        return r;
    }

    private static void ToLong<T>(Tensor t, Span<long> r) where T : IBinaryInteger<T>
    {
        var s = t.AsReadOnlySpan<T>();
        for (int i = 0; i < r.Length; i++) r[i] = long.CreateTruncating(s[i]);
    }

    /// <summary>Narrows by keeping the low bits (sub-byte types sign- or zero-extended from theirs); bool is "non-zero".</summary>
    private static void FromLongs(ReadOnlySpan<long> s, Tensor d)
    {
        switch (d.DataType)
        {
            case DataType.Bool: { var o = d.AsSpan<bool>(); for (int i = 0; i < s.Length; i++) o[i] = s[i] != 0; break; }
            case DataType.Int4: { var o = d.AsSpan<sbyte>(); for (int i = 0; i < s.Length; i++) o[i] = (sbyte)((s[i] << 60) >> 60); break; }
            case DataType.Int2: { var o = d.AsSpan<sbyte>(); for (int i = 0; i < s.Length; i++) o[i] = (sbyte)((s[i] << 62) >> 62); break; }
            case DataType.UInt4: { var o = d.AsSpan<byte>(); for (int i = 0; i < s.Length; i++) o[i] = (byte)(s[i] & 0xF); break; }
            case DataType.UInt2: { var o = d.AsSpan<byte>(); for (int i = 0; i < s.Length; i++) o[i] = (byte)(s[i] & 0x3); break; }
            case DataType.Int8: Narrow<sbyte>(s, d); break;
            case DataType.UInt8: Narrow<byte>(s, d); break;
            case DataType.Int16: Narrow<short>(s, d); break;
            case DataType.UInt16: Narrow<ushort>(s, d); break;
            case DataType.Int32: Narrow<int>(s, d); break;
            case DataType.UInt32: Narrow<uint>(s, d); break;
            case DataType.Int64: s.CopyTo(d.AsSpan<long>()); break;
            case DataType.UInt64: Narrow<ulong>(s, d); break;
            default: throw new UnsupportedException($"{d.DataType.Name()} is not an integer type");
        }
    }

    private static void Narrow<T>(ReadOnlySpan<long> s, Tensor d) where T : IBinaryInteger<T>
    {
        var o = d.AsSpan<T>();
        for (int i = 0; i < s.Length; i++) o[i] = T.CreateTruncating(s[i]);
    }

    /// <summary>
    /// float64 to every non-string dtype: floats round to nearest even; integers truncate toward zero
    /// (see <see cref="TruncateToInt64"/> for out-of-range values); 4- and 2-bit integers round half to
    /// even and clip to their range (as ONNX's reference); bool is "non-zero" (NaN is true).
    /// </summary>
    public static void FromDoubles(ReadOnlySpan<double> s, Tensor d, CastOptions options)
    {
        switch (d.DataType)
        {
            case DataType.Float: { var o = d.AsSpan<float>(); for (int i = 0; i < s.Length; i++) o[i] = (float)s[i]; break; }
            case DataType.Double: s.CopyTo(d.AsSpan<double>()); break;
            case DataType.Float16: { var o = d.AsSpan<Half>(); for (int i = 0; i < s.Length; i++) o[i] = (Half)s[i]; break; }
            case DataType.BFloat16: { var o = d.AsSpan<BFloat16>(); for (int i = 0; i < s.Length; i++) o[i] = (BFloat16)(float)s[i]; break; }
            case DataType.Bool: { var o = d.AsSpan<bool>(); for (int i = 0; i < s.Length; i++) o[i] = s[i] != 0; break; }
            case DataType.Int8: TruncateAndWrap<sbyte>(s, d); break;
            case DataType.UInt8: TruncateAndWrap<byte>(s, d); break;
            case DataType.Int16: TruncateAndWrap<short>(s, d); break;
            case DataType.UInt16: TruncateAndWrap<ushort>(s, d); break;
            case DataType.UInt32: TruncateAndWrap<uint>(s, d); break;
            case DataType.Int64: TruncateAndWrap<long>(s, d); break;
            case DataType.Int32:
            {
                var o = d.AsSpan<int>();
                for (int i = 0; i < s.Length; i++) o[i] = s[i] >= -2147483648.0 && s[i] < 2147483648.0 ? (int)s[i] : int.MinValue;
                break;
            }
            case DataType.UInt64:
            {
                var o = d.AsSpan<ulong>();
                for (int i = 0; i < s.Length; i++) o[i] = s[i] >= 9223372036854775808.0 && s[i] < 18446744073709551616.0 ? (ulong)s[i] : unchecked((ulong)TruncateToInt64(s[i]));
                break;
            }
            case DataType.Int4: ClipRound<sbyte>(s, d, -8, 7); break;
            case DataType.UInt4: ClipRound<byte>(s, d, 0, 15); break;
            case DataType.Int2: ClipRound<sbyte>(s, d, -2, 1); break;
            case DataType.UInt2: ClipRound<byte>(s, d, 0, 3); break;
            case DataType.Float8E8M0:
            {
                var o = d.AsSpan<byte>();
                for (int i = 0; i < s.Length; i++) o[i] = Float8E8M0.Encode((float)s[i], options.Saturate, options.Rounding);
                break;
            }
            default:
            {
                var format = Float8Format.Of(d.DataType) ?? throw new UnsupportedException($"cannot convert to {d.DataType.Name()}");
                var o = d.AsSpan<byte>();
                // Through float32 first, as ONNX does: float64 sources round twice.
                for (int i = 0; i < s.Length; i++) o[i] = format.Encode((float)s[i], options.Saturate);
                break;
            }
        }
    }

    /// <summary>
    /// C's float-to-integer conversion as x86-64 compilers emit it, which ONNX Runtime and NumPy inherit
    /// (ONNX leaves out-of-range values undefined): truncate toward zero into int64 — NaN and values
    /// beyond int64 give its minimum — then keep the low bits, so -1.0 becomes 255 as uint8. (int32 is
    /// converted directly, so out-of-range values give int32's minimum.)
    /// </summary>
    private static long TruncateToInt64(double d) =>
        d >= -9223372036854775808.0 && d < 9223372036854775808.0 ? (long)d : long.MinValue;

    private static void TruncateAndWrap<T>(ReadOnlySpan<double> s, Tensor d) where T : IBinaryInteger<T>
    {
        var o = d.AsSpan<T>();
        for (int i = 0; i < s.Length; i++) o[i] = T.CreateTruncating(TruncateToInt64(s[i]));
    }

    private static void ClipRound<T>(ReadOnlySpan<double> s, Tensor d, int lo, int hi) where T : INumberBase<T>
    {
        var o = d.AsSpan<T>();
        for (int i = 0; i < s.Length; i++) o[i] = T.CreateSaturating(Math.Round(Math.Clamp(s[i], lo, hi), MidpointRounding.ToEven));
    }

    private static void ToStrings(Tensor t, Span<string> o)
    {
        switch (t.DataType)
        {
            case DataType.Float: { var s = t.AsReadOnlySpan<float>(); for (int i = 0; i < o.Length; i++) o[i] = ElementwiseText.Format(s[i]); break; }
            case DataType.Double: { var s = t.AsReadOnlySpan<double>(); for (int i = 0; i < o.Length; i++) o[i] = ElementwiseText.Format(s[i]); break; }
            case DataType.Float16: { var s = t.AsReadOnlySpan<Half>(); for (int i = 0; i < o.Length; i++) o[i] = ElementwiseText.Format(s[i]); break; }
            case DataType.Bool: { var s = t.AsReadOnlySpan<bool>(); for (int i = 0; i < o.Length; i++) o[i] = s[i] ? "True" : "False"; break; }
            case var dt when dt.IsInteger():
            {
                var v = ToLongs(t);
                for (int i = 0; i < o.Length; i++)
                    o[i] = dt == DataType.UInt64 ? unchecked((ulong)v[i]).ToString(System.Globalization.CultureInfo.InvariantCulture) : v[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
                break;
            }
            default:
            {
                // bfloat16 and the 8/4-bit floats: their values are exact in float32.
                var v = ToDoubles(t);
                for (int i = 0; i < o.Length; i++) o[i] = ElementwiseText.Format((float)v[i]);
                break;
            }
        }
    }

    private static string? FromStrings(ReadOnlySpan<string> s, Tensor d, CastOptions options)
    {
        if (IsIntegerLike(d.DataType))
        {
            var v = new long[s.Length];
            for (int i = 0; i < s.Length; i++)
                if (!ElementwiseText.TryParseInteger(s[i], out v[i])) return s[i];
            FromLongs(v, d);
            return null;
        }
        if (d.DataType == DataType.Float)
        {
            var o = d.AsSpan<float>();
            for (int i = 0; i < s.Length; i++)
                if (!ElementwiseText.TryParseFloat(s[i], out o[i])) return s[i];
            return null;
        }
        var values = new double[s.Length];
        for (int i = 0; i < s.Length; i++)
            if (!ElementwiseText.TryParseDouble(s[i], out values[i])) return s[i];
        FromDoubles(values, d, options);
        return null;
    }
}
