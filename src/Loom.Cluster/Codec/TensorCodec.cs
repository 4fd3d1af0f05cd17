using System.Runtime.InteropServices;
using System.Text;

namespace Loom.Cluster.Codec;

/// <summary>
/// The compact binary form in which tensors travel between the client and silos (no JSON, no protobuf):
/// <c>"LMT1"</c>, a count, then per tensor its name, dtype, rank, dims and elements. Fixed-size elements are
/// their little-endian bytes copied as one block (so a float chunk costs 4 bytes a value plus a header of a
/// few dozen bytes); strings are length-prefixed UTF-8. Decoding checks every length against the bytes left,
/// so a truncated or foreign message is a <see cref="TensorCodecException"/>, never a wrong tensor.
/// </summary>
public static class TensorCodec
{
    private static ReadOnlySpan<byte> Magic => "LMT1"u8;

    public static byte[] Encode(IReadOnlyList<(string Name, Tensor Value)> tensors)
    {
        if (!BitConverter.IsLittleEndian) throw new UnsupportedException("the tensor codec needs a little-endian machine");
        using var ms = new MemoryStream(EstimateSize(tensors));
        using var w = new BinaryWriter(ms, Encoding.UTF8);
        w.Write(Magic);
        w.Write7BitEncodedInt(tensors.Count);
        foreach (var (name, t) in tensors)
        {
            w.Write(name);
            w.Write((byte)t.DataType);
            w.Write((byte)t.Rank);
            foreach (int d in t.Shape) w.Write7BitEncodedInt(d);
            if (t.DataType == DataType.String)
                foreach (var s in t.AsReadOnlySpan<string>()) w.Write(s ?? "");
            else w.Write(RawBytes(t));
        }
        w.Flush();
        return ms.ToArray();
    }

    public static (string Name, Tensor Value)[] Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new Reader(bytes);
        if (bytes.Length < 4 || !bytes[..4].SequenceEqual(Magic)) throw new TensorCodecException($"a tensor message starts with 'LMT1'; these {bytes.Length} bytes do not");
        r.Skip(4);
        int count = r.Count("tensor count");
        var result = new (string, Tensor)[count];
        for (int i = 0; i < count; i++)
        {
            string name = r.String();
            var dtype = (DataType)r.Byte();
            if (!dtype.IsSupported()) throw new TensorCodecException($"tensor '{name}': unknown dtype {(int)dtype}");
            int rank = r.Byte();
            var dims = new int[rank];
            long n = 1;
            for (int d = 0; d < rank; d++) n *= dims[d] = r.Count($"tensor '{name}' dim {d}");
            if (dtype == DataType.String)
            {
                var s = new string[checked((int)n)];
                for (int k = 0; k < s.Length; k++) s[k] = r.String();
                result[i] = (name, Tensor.FromArray(s, dims));
                continue;
            }
            long size = n * dtype.ElementSize();
            var raw = r.Bytes(size, name);
            var t = Tensor.Zeros(dtype, dims);
            raw.CopyTo(RawSpan(t));
            result[i] = (name, t);
        }
        if (!r.AtEnd) throw new TensorCodecException($"{r.Left} stray bytes after the last tensor");
        return result;
    }

    private static int EstimateSize(IReadOnlyList<(string Name, Tensor Value)> tensors)
    {
        long n = 16;
        foreach (var (name, t) in tensors) n += name.Length * 3 + 8 + t.Rank * 5 + (long)t.Length * Math.Max(1, t.DataType == DataType.String ? 16 : t.DataType.ElementSize());
        return (int)Math.Min(n, Array.MaxLength);
    }

    /// <summary>The bytes of a fixed-size tensor's window of its buffer.</summary>
    private static ReadOnlySpan<byte> RawBytes(Tensor t) => RawSpan(t);

    private static Span<byte> RawSpan(Tensor t) => t.Buffer switch
    {
        float[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        double[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        long[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        int[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        short[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        ushort[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        uint[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        ulong[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        byte[] a => a.AsSpan(t.Offset, t.Length),
        sbyte[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        bool[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        Half[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        BFloat16[] a => MemoryMarshal.AsBytes(a.AsSpan(t.Offset, t.Length)),
        _ => throw new UnsupportedException($"the tensor codec cannot send {t.DataType} tensors"),
    };

    /// <summary>A bounds-checked cursor over a message.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _b = bytes;
        private int _at;
        public readonly bool AtEnd => _at == _b.Length;
        public readonly int Left => _b.Length - _at;

        public void Skip(int n) => _at += n;

        public byte Byte()
        {
            if (_at >= _b.Length) throw Truncated("a byte");
            return _b[_at++];
        }

        public int Count(string what)
        {
            int v = 0, shift = 0;
            while (true)
            {
                byte b = Byte();
                v |= (b & 0x7F) << shift;
                if (b < 0x80) break;
                shift += 7;
                if (shift > 28) throw new TensorCodecException($"{what}: malformed length");
            }
            if (v < 0) throw new TensorCodecException($"{what}: negative length {v}");
            return v;
        }

        public string String()
        {
            int n = Count("string length");
            return Encoding.UTF8.GetString(Bytes(n, "string"));
        }

        public ReadOnlySpan<byte> Bytes(long n, string what)
        {
            if (n > Left) throw Truncated($"{n} bytes of {what}");
            var s = _b.Slice(_at, (int)n);
            _at += (int)n;
            return s;
        }

        private readonly TensorCodecException Truncated(string what) => new($"truncated tensor message: needed {what} at byte {_at} of {_b.Length}");
    }
}
