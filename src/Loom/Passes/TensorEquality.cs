using System.Runtime.InteropServices;

namespace Loom.Passes;

/// <summary>Bitwise equality of tensors (so -0 differs from 0, and a NaN equals only the same NaN), with a cheap hash.</summary>
internal static class TensorEquality
{
    public static bool Equal(Tensor a, Tensor b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.DataType != b.DataType || !a.Shape.SequenceEqual(b.Shape)) return false;
        if (a.DataType == DataType.String) return a.AsSpan<string>().SequenceEqual(b.AsSpan<string>());
        return Bytes(a).SequenceEqual(Bytes(b));
    }

    /// <summary>A hash of dtype, shape and up to the first 64 bytes of data.</summary>
    public static int Hash(Tensor t)
    {
        var h = new HashCode();
        h.Add(t.DataType);
        foreach (var d in t.Shape) h.Add(d);
        if (t.DataType == DataType.String) { foreach (var s in t.AsSpan<string>()) h.Add(s); }
        else
        {
            var bytes = Bytes(t);
            h.AddBytes(bytes[..Math.Min(64, bytes.Length)]);
        }
        return h.ToHashCode();
    }

    private static ReadOnlySpan<byte> Bytes(Tensor t) => t.Buffer switch
    {
        float[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<float>()),
        double[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<double>()),
        Half[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<Half>()),
        BFloat16[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<BFloat16>()),
        sbyte[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<sbyte>()),
        byte[] => t.AsReadOnlySpan<byte>(),
        short[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<short>()),
        ushort[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<ushort>()),
        int[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<int>()),
        uint[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<uint>()),
        long[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<long>()),
        ulong[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<ulong>()),
        bool[] => MemoryMarshal.AsBytes(t.AsReadOnlySpan<bool>()),
        _ => throw new UnsupportedException($"cannot compare tensors of {t.DataType.Name()}"),
    };
}
