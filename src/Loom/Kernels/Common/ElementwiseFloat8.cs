namespace Loom.Kernels.Common;

/// <summary>How Cast rounds to float8e8m0 (a power of two): <c>up</c> (default), <c>down</c> or <c>nearest</c>.</summary>
internal enum E8M0Rounding { Up, Down, Nearest }

/// <summary>
/// One 8-bit (or 4-bit) floating-point format: sign, <see cref="ExponentBits"/>, <see cref="MantissaBits"/>
/// and the conventions ONNX names by suffix — FN: no infinities, NaN is all ones; UZ: no negative zero,
/// NaN is 0x80 (the "negative zero" pattern) and the bias is one more.
/// </summary>
internal sealed class Float8Format
{
    public static readonly Float8Format E4M3FN = new(4, 3, bias: 7, hasInf: false, uz: false, nanBits: 0x7F);
    public static readonly Float8Format E4M3FNUZ = new(4, 3, bias: 8, hasInf: false, uz: true, nanBits: 0x80);
    public static readonly Float8Format E5M2 = new(5, 2, bias: 15, hasInf: true, uz: false, nanBits: 0x7F);
    public static readonly Float8Format E5M2FNUZ = new(5, 2, bias: 16, hasInf: false, uz: true, nanBits: 0x80);

    /// <summary>float4e2m1: no NaN nor infinity; ONNX maps NaN to 0x7 (+6), and every out-of-range value saturates.</summary>
    public static readonly Float8Format E2M1 = new(2, 1, bias: 1, hasInf: false, uz: false, nanBits: 0x7, signBit: 0x8, noNaN: true);

    private readonly int _signBit;
    private readonly bool _noNaN;
    private readonly byte _maxBits;

    private Float8Format(int exponentBits, int mantissaBits, int bias, bool hasInf, bool uz, byte nanBits, int signBit = 0x80, bool noNaN = false)
    {
        ExponentBits = exponentBits;
        MantissaBits = mantissaBits;
        Bias = bias;
        HasInf = hasInf;
        Uz = uz;
        NaNBits = nanBits;
        _signBit = signBit;
        _noNaN = noNaN;
        // The largest finite pattern: below infinity (E5M2), below the all-ones NaN (E4M3FN), or all ones.
        int allOnes = signBit - 1;
        _maxBits = (byte)(hasInf ? allOnes - (1 << mantissaBits) : (!uz && !noNaN) ? allOnes - 1 : allOnes);
        MaxFinite = DecodeMagnitude(_maxBits);
    }

    public int ExponentBits { get; }
    public int MantissaBits { get; }
    public int Bias { get; }
    public bool HasInf { get; }
    public bool Uz { get; }
    public byte NaNBits { get; }
    public double MaxFinite { get; }

    public static Float8Format? Of(DataType t) => t switch
    {
        DataType.Float8E4M3FN => E4M3FN,
        DataType.Float8E4M3FNUZ => E4M3FNUZ,
        DataType.Float8E5M2 => E5M2,
        DataType.Float8E5M2FNUZ => E5M2FNUZ,
        DataType.Float4E2M1 => E2M1,
        _ => null,
    };

    public float Decode(byte bits)
    {
        bool negative = (bits & _signBit) != 0;
        int magnitude = bits & (_signBit - 1);
        if (!_noNaN)
        {
            if (Uz && bits == 0x80) return float.NaN;
            if (!Uz && !HasInf && magnitude == _signBit - 1) return negative ? -float.NaN : float.NaN;
            if (HasInf && magnitude >> MantissaBits == (1 << ExponentBits) - 1)
                return (magnitude & ((1 << MantissaBits) - 1)) == 0 ? (negative ? float.NegativeInfinity : float.PositiveInfinity) : (negative ? -float.NaN : float.NaN);
        }
        float v = (float)DecodeMagnitude(magnitude);
        return negative ? -v : v;
    }

    private double DecodeMagnitude(int magnitude)
    {
        int e = magnitude >> MantissaBits, m = magnitude & ((1 << MantissaBits) - 1);
        return e == 0
            ? Math.ScaleB(m, 1 - Bias - MantissaBits)
            : Math.ScaleB((1 << MantissaBits) + m, e - Bias - MantissaBits);
    }

    /// <summary>
    /// Rounds to nearest, ties to even. Out of range (infinity included): the largest finite value when
    /// <paramref name="saturate"/>, else infinity (E5M2) or NaN. NaN keeps its sign where the format can.
    /// </summary>
    public byte Encode(float x, bool saturate)
    {
        int sign = float.IsNegative(x) ? _signBit : 0;
        if (float.IsNaN(x)) return Uz || _noNaN ? NaNBits : (byte)(NaNBits | sign);
        if (float.IsInfinity(x)) return Overflow(sign, saturate);
        double v = Math.Abs((double)x);
        if (v == 0) return (byte)(Uz ? 0 : sign);
        // Quantum of the binade holding v (the subnormal quantum below the smallest normal); v/q is exact in double.
        int minNormalExp = 1 - Bias;
        int e = Math.Max(Math.ILogB(v), minNormalExp);
        double q = Math.ScaleB(1.0, e - MantissaBits);
        double r = Math.Round(v / q, MidpointRounding.ToEven) * q;
        if (r > MaxFinite) return Overflow(sign, saturate);
        if (r == 0) return (byte)(Uz ? 0 : sign);
        int re = Math.ILogB(r);
        int bits = re < minNormalExp
            ? (int)(r / Math.ScaleB(1.0, minNormalExp - MantissaBits))
            : ((re + Bias) << MantissaBits) | ((int)(r / Math.ScaleB(1.0, re - MantissaBits)) - (1 << MantissaBits));
        return (byte)(bits | sign);
    }

    private byte Overflow(int sign, bool saturate)
    {
        if (saturate || _noNaN) return (byte)(_maxBits | sign);
        if (HasInf) return (byte)((((1 << ExponentBits) - 1) << MantissaBits) | sign); // infinity: all-ones exponent, zero mantissa
        return Uz ? NaNBits : (byte)(NaNBits | sign);
    }
}

/// <summary>float8e8m0: an unsigned power of two, 2^(bits-127); 0xFF is NaN.</summary>
internal static class Float8E8M0
{
    public static float Decode(byte bits) => bits == 0xFF ? float.NaN : MathF.ScaleB(1f, bits - 127);

    /// <summary>
    /// The exponent of a float32, rounded by <paramref name="mode"/> (the fraction decides: up when any
    /// fraction bit is set; nearest on the first fraction bit). NaN and infinity give 0xFF; with
    /// <paramref name="saturate"/> rounding never overflows past the largest power 2^127. The sign is ignored.
    /// </summary>
    public static byte Encode(float x, bool saturate, E8M0Rounding mode)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        uint exponent = (bits >> 23) & 0xFF, fraction = bits & 0x7FFFFF;
        if (exponent == 0xFF) return 0xFF;
        bool up = mode switch
        {
            E8M0Rounding.Up => fraction != 0,
            E8M0Rounding.Nearest => (fraction & 0x400000) != 0 && ((fraction & 0x3FFFFF) != 0 || exponent > 0),
            _ => false,
        };
        if (up && saturate && exponent == 0xFE) up = false;
        return (byte)(exponent + (up ? 1u : 0u));
    }
}
