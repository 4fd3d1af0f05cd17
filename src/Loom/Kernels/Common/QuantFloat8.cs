namespace Loom.Kernels.Common;

/// <summary>
/// Conversions between float32 and the 8-bit and 4-bit floats QuantizeLinear/DequantizeLinear produce
/// and read (float8e4m3fn, float8e4m3fnuz, float8e5m2, float8e5m2fnuz, float4e2m1, float8e8m0 scales).
/// Rounding is to nearest even; out-of-range values saturate to ±max or, without saturation, become
/// NaN (or ±inf for e5m2), as in ONNX's Cast table.
/// </summary>
internal static class QuantFloat8
{
    private sealed record Format(int ExpBits, int ManBits, int Bias, bool HasInf, bool Unsigned0, byte? NaN, double Max)
    {
        public readonly float[] Decoded = new float[1 << (1 + ExpBits + ManBits)];
    }

    // Unsigned0 ("UZ"): no negative zero; 0x80 is the one NaN.
    private static readonly Format E4M3FN = Init(new(4, 3, 7, false, false, 0x7F, 448));
    private static readonly Format E4M3FNUZ = Init(new(4, 3, 8, false, true, 0x80, 240));
    private static readonly Format E5M2 = Init(new(5, 2, 15, true, false, 0x7F, 57344));
    private static readonly Format E5M2FNUZ = Init(new(5, 2, 16, false, true, 0x80, 57344));
    private static readonly Format E2M1 = Init(new(2, 1, 1, false, false, null, 6));

    public static bool IsSmallFloat(DataType t) => t is DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ
        or DataType.Float8E5M2 or DataType.Float8E5M2FNUZ or DataType.Float4E2M1 or DataType.Float8E8M0;

    private static Format FormatOf(DataType t) => t switch
    {
        DataType.Float8E4M3FN => E4M3FN,
        DataType.Float8E4M3FNUZ => E4M3FNUZ,
        DataType.Float8E5M2 => E5M2,
        DataType.Float8E5M2FNUZ => E5M2FNUZ,
        DataType.Float4E2M1 => E2M1,
        _ => throw new InvalidOperationException($"{t.Name()} is not a small float"),
    };

    public static float ToFloat(byte bits, DataType t)
    {
        if (t == DataType.Float8E8M0) return bits == 0xFF ? float.NaN : (float)Math.ScaleB(1.0, bits - 127);
        var f = FormatOf(t);
        return f.Decoded[bits & (f.Decoded.Length - 1)];
    }

    public static byte FromFloat(float x, DataType t, bool saturate)
    {
        var f = FormatOf(t);
        int width = 1 + f.ExpBits + f.ManBits;
        byte sign = (byte)(float.IsNegative(x) ? 1 << (width - 1) : 0);
        if (float.IsNaN(x)) return f.NaN is { } nan ? (f.Unsigned0 ? nan : (byte)(nan | sign)) : (byte)(sign | (width == 4 ? 0x7 : 0));
        double a = Math.Abs((double)x);
        int maxCode = (1 << (width - 1)) - 1;
        if (double.IsInfinity(a) || a > f.Max)
        {
            // Round first: a value just above max may still round down to it.
            double rounded = double.IsInfinity(a) ? a : RoundToGrid(a, f);
            if (rounded > f.Max)
            {
                if (saturate || f.NaN is null) return (byte)(sign | Encode(f.Max, f));
                if (f.HasInf) return (byte)(sign | (maxCode & ~((1 << f.ManBits) - 1))); // exponent all ones, mantissa 0
                return f.Unsigned0 ? f.NaN.Value : (byte)(f.NaN.Value | sign);
            }
            a = rounded;
        }
        else a = RoundToGrid(a, f);
        byte code = Encode(a, f);
        if (code == 0 && (f.Unsigned0 || width == 4)) return 0; // no negative zero (UZ); float4 writes -0 as 0 too
        return (byte)(sign | code);
    }

    /// <summary>|x| rounded to the nearest value of the format's grid (ties to even), possibly above max.</summary>
    private static double RoundToGrid(double a, Format f)
    {
        if (a == 0) return 0;
        int minNormal = 1 - f.Bias;
        int e = Math.Max(Math.ILogB(a), minNormal);
        double quantum = Math.ScaleB(1.0, e - f.ManBits);
        return Math.Round(a / quantum, MidpointRounding.ToEven) * quantum;
    }

    /// <summary>The code (without sign) of a non-negative value exactly on the grid.</summary>
    private static byte Encode(double a, Format f)
    {
        if (a == 0) return 0;
        int minNormal = 1 - f.Bias;
        int e = Math.ILogB(a);
        if (e < minNormal) return (byte)(a / Math.ScaleB(1.0, minNormal - f.ManBits));
        int mantissa = (int)(a / Math.ScaleB(1.0, e - f.ManBits)) - (1 << f.ManBits);
        return (byte)(((e + f.Bias) << f.ManBits) | mantissa);
    }

    private static Format Init(Format f)
    {
        int width = 1 + f.ExpBits + f.ManBits, half = 1 << (width - 1);
        for (int code = 0; code < f.Decoded.Length; code++)
        {
            int mag = code & (half - 1), exp = mag >> f.ManBits, man = mag & ((1 << f.ManBits) - 1);
            double v = exp == 0 ? Math.ScaleB(man, 1 - f.Bias - f.ManBits) : Math.ScaleB((1 << f.ManBits) + man, exp - f.Bias - f.ManBits);
            if (f.HasInf && exp == (1 << f.ExpBits) - 1) v = man == 0 ? double.PositiveInfinity : double.NaN;
            if (f.NaN is { } nan && !f.Unsigned0 && mag == nan) v = double.NaN;
            bool negative = (code & half) != 0;
            if (f.Unsigned0 && code == half) { f.Decoded[code] = float.NaN; continue; }
            f.Decoded[code] = (float)(negative ? -v : v);
        }
        return f;
    }
}
