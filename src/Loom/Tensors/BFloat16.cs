using System.Runtime.CompilerServices;

namespace Loom;

/// <summary>
/// Brain floating point: the upper 16 bits of an IEEE float32. .NET 10 has no such type, so Loom
/// keeps its own; arithmetic happens in float32 (as ONNX Runtime and NumPy-based references do).
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>
{
    public readonly ushort Bits;

    private BFloat16(ushort bits) => Bits = bits;

    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Rounds to nearest, ties to even; NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static explicit operator BFloat16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return new BFloat16((ushort)((u >> 16) | 0x40));
        uint rounding = 0x7FFF + ((u >> 16) & 1);
        return new BFloat16((ushort)((u + rounding) >> 16));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static explicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    public static explicit operator BFloat16(double value) => (BFloat16)(float)value;
    public static explicit operator double(BFloat16 value) => (float)value;

    public bool Equals(BFloat16 other) => ((float)this).Equals((float)other);
    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);
    public override int GetHashCode() => ((float)this).GetHashCode();
    public int CompareTo(BFloat16 other) => ((float)this).CompareTo((float)other);
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
