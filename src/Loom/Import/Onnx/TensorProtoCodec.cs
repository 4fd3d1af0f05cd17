using System.Runtime.InteropServices;
using Google.Protobuf;
using Loom.Import.Onnx.Proto;

namespace Loom.Import.Onnx;

/// <summary>
/// Converts between ONNX <c>TensorProto</c> and <see cref="Tensor"/>: raw_data (little-endian, sub-byte
/// types packed) and every typed field, and external data read through <see cref="ExternalDataReader"/>.
/// Sizes come from the declared dims but are checked against the bytes actually present before anything
/// is allocated, so a lying header cannot make Loom allocate memory the file does not back.
/// </summary>
internal static class TensorProtoCodec
{
    public static Tensor Decode(TensorProto p, ImportContext ctx, string what)
    {
        string label = $"{what} '{p.Name}'";
        var dt = (DataType)p.DataType;
        if (!Enum.IsDefined(dt) || dt == DataType.Undefined)
            throw ctx.Format($"{label} has unknown data type {p.DataType}");
        if (dt is DataType.Complex64 or DataType.Complex128)
            throw new UnsupportedException($"{ctx.Where}: {label} has data type {dt.Name()}, which Loom does not support");
        if (p.Segment is not null) throw new UnsupportedException($"{ctx.Where}: {label} is segmented, which Loom does not support");

        var dims = new int[p.Dims.Count];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = p.Dims[i];
            if (d < 0 || d > int.MaxValue) throw ctx.Format($"{label} has invalid dimension {d}");
            dims[i] = (int)d;
            count *= d;
            if (count > int.MaxValue) throw new ResourceLimitException($"{ctx.Where}: {label} declares {ShapeMath.Format(dims)}, more elements than Loom can hold");
        }
        int n = (int)count;
        long bytesNeeded = (n * (long)dt.SerializedBits() + 7) / 8;
        if (dt != DataType.String && bytesNeeded > ctx.Options.MaxTensorBytes)
            throw new ResourceLimitException($"{ctx.Where}: {label} needs {bytesNeeded} bytes, above the cap of {ctx.Options.MaxTensorBytes} (LoomSessionOptions.MaxTensorBytes)");

        if (p.DataLocation == TensorProto.Types.DataLocation.External)
        {
            var bytes = ExternalDataReader.Read(p, ctx, label, bytesNeeded);
            return FromRaw(dt, dims, n, bytes, ctx, label);
        }
        if (p.HasRawData)
        {
            if (dt == DataType.String) throw ctx.Format($"{label} is a string tensor with raw_data, which ONNX does not allow");
            return FromRaw(dt, dims, n, p.RawData.Span, ctx, label);
        }
        return FromTyped(p, dt, dims, n, ctx, label);
    }

    private static Tensor FromRaw(DataType dt, int[] dims, int n, ReadOnlySpan<byte> raw, ImportContext ctx, string label)
    {
        long expected = (n * (long)dt.SerializedBits() + 7) / 8;
        if (raw.Length != expected)
            throw ctx.Format($"{label} of shape {ShapeMath.Format(dims)} and type {dt.Name()} needs {expected} bytes of data but has {raw.Length}");
        var t = Tensor.Zeros(dt, dims);
        switch (dt.SerializedBits())
        {
            case 4: UnpackNibbles(raw, n, dt == DataType.Int4, t); break;
            case 2: UnpackCrumbs(raw, n, dt == DataType.Int2, t); break;
            default:
                var dest = MemoryMarshal.AsBytes(SpanOf(t));
                raw.CopyTo(dest);
                if (!BitConverter.IsLittleEndian) throw new UnsupportedException("Loom needs a little-endian machine");
                if (dt == DataType.Bool)
                    foreach (ref var b in dest) b = b != 0 ? (byte)1 : (byte)0;
                break;
        }
        return t;
    }

    private static Tensor FromTyped(TensorProto p, DataType dt, int[] dims, int n, ImportContext ctx, string label)
    {
        int have = dt switch
        {
            DataType.Float => p.FloatData.Count,
            DataType.Double => p.DoubleData.Count,
            DataType.Int64 => p.Int64Data.Count,
            DataType.UInt32 or DataType.UInt64 => p.Uint64Data.Count,
            DataType.String => p.StringData.Count,
            DataType.Int4 or DataType.UInt4 or DataType.Float4E2M1 => p.Int32Data.Count * 2,
            _ => p.Int32Data.Count,
        };
        bool countOk = dt is DataType.Int4 or DataType.UInt4 or DataType.Float4E2M1 ? (have == n || have == n + 1) : have == n;
        if (!countOk)
            throw ctx.Format($"{label} of shape {ShapeMath.Format(dims)} declares {n} elements but holds {have}");
        var t = Tensor.Zeros(dt, dims);
        switch (dt)
        {
            case DataType.Float: p.FloatData.CopyTo((float[])t.Buffer, 0); break;
            case DataType.Double: p.DoubleData.CopyTo((double[])t.Buffer, 0); break;
            case DataType.Int64: p.Int64Data.CopyTo((long[])t.Buffer, 0); break;
            case DataType.UInt64: p.Uint64Data.CopyTo((ulong[])t.Buffer, 0); break;
            case DataType.UInt32: { var s = t.AsSpan<uint>(); for (int i = 0; i < n; i++) s[i] = (uint)p.Uint64Data[i]; break; }
            case DataType.Int32: p.Int32Data.CopyTo((int[])t.Buffer, 0); break;
            case DataType.Int16: { var s = t.AsSpan<short>(); for (int i = 0; i < n; i++) s[i] = (short)p.Int32Data[i]; break; }
            case DataType.UInt16: { var s = t.AsSpan<ushort>(); for (int i = 0; i < n; i++) s[i] = (ushort)p.Int32Data[i]; break; }
            case DataType.Int8: { var s = t.AsSpan<sbyte>(); for (int i = 0; i < n; i++) s[i] = (sbyte)p.Int32Data[i]; break; }
            case DataType.Bool: { var s = t.AsSpan<bool>(); for (int i = 0; i < n; i++) s[i] = p.Int32Data[i] != 0; break; }
            case DataType.Float16: { var s = t.AsSpan<Half>(); for (int i = 0; i < n; i++) s[i] = BitConverter.UInt16BitsToHalf((ushort)p.Int32Data[i]); break; }
            case DataType.BFloat16: { var s = t.AsSpan<BFloat16>(); for (int i = 0; i < n; i++) s[i] = BFloat16.FromBits((ushort)p.Int32Data[i]); break; }
            case DataType.String: { var s = t.AsSpan<string>(); for (int i = 0; i < n; i++) s[i] = p.StringData[i].ToStringUtf8(); break; }
            case DataType.Int4 or DataType.UInt4 or DataType.Float4E2M1:
            {
                var packed = new byte[(n + 1) / 2];
                for (int i = 0; i < packed.Length; i++) packed[i] = (byte)p.Int32Data[i];
                UnpackNibbles(packed, n, dt == DataType.Int4, t);
                break;
            }
            default: // uint8, int2/uint2 (unpacked here) and the float8 family: one element per int32
            {
                var s = MemoryMarshal.AsBytes(SpanOf(t));
                for (int i = 0; i < n; i++) s[i] = (byte)p.Int32Data[i];
                break;
            }
        }
        return t;
    }

    private static Span<byte> SpanOf(Tensor t) => t.DataType.ClrType() switch
    {
        var c when c == typeof(float) => MemoryMarshal.AsBytes(t.AsSpan<float>()),
        var c when c == typeof(double) => MemoryMarshal.AsBytes(t.AsSpan<double>()),
        var c when c == typeof(Half) => MemoryMarshal.AsBytes(t.AsSpan<Half>()),
        var c when c == typeof(BFloat16) => MemoryMarshal.AsBytes(t.AsSpan<BFloat16>()),
        var c when c == typeof(sbyte) => MemoryMarshal.AsBytes(t.AsSpan<sbyte>()),
        var c when c == typeof(byte) => t.AsSpan<byte>(),
        var c when c == typeof(short) => MemoryMarshal.AsBytes(t.AsSpan<short>()),
        var c when c == typeof(ushort) => MemoryMarshal.AsBytes(t.AsSpan<ushort>()),
        var c when c == typeof(int) => MemoryMarshal.AsBytes(t.AsSpan<int>()),
        var c when c == typeof(uint) => MemoryMarshal.AsBytes(t.AsSpan<uint>()),
        var c when c == typeof(long) => MemoryMarshal.AsBytes(t.AsSpan<long>()),
        var c when c == typeof(ulong) => MemoryMarshal.AsBytes(t.AsSpan<ulong>()),
        var c when c == typeof(bool) => MemoryMarshal.AsBytes(t.AsSpan<bool>()),
        _ => throw new UnsupportedException($"no byte view of {t.DataType.Name()}"),
    };

    private static void UnpackNibbles(ReadOnlySpan<byte> packed, int n, bool signed, Tensor t)
    {
        var dest = MemoryMarshal.AsBytes(SpanOf(t));
        for (int i = 0; i < n; i++)
        {
            int v = (packed[i >> 1] >> ((i & 1) * 4)) & 0xF;
            dest[i] = signed ? (byte)(sbyte)((v ^ 8) - 8) : (byte)v;
        }
    }

    private static void UnpackCrumbs(ReadOnlySpan<byte> packed, int n, bool signed, Tensor t)
    {
        var dest = MemoryMarshal.AsBytes(SpanOf(t));
        for (int i = 0; i < n; i++)
        {
            int v = (packed[i >> 2] >> ((i & 3) * 2)) & 0x3;
            dest[i] = signed ? (byte)(sbyte)((v ^ 2) - 2) : (byte)v;
        }
    }

    // ---- encode ---------------------------------------------------------------------------------

    public static TensorProto Encode(Tensor t, string name)
    {
        var p = new TensorProto { Name = name, DataType = (int)t.DataType };
        foreach (var d in t.Shape) p.Dims.Add(d);
        if (t.DataType == DataType.String)
        {
            foreach (var s in t.AsSpan<string>()) p.StringData.Add(ByteString.CopyFromUtf8(s));
            return p;
        }
        p.RawData = ByteString.CopyFrom(RawBytes(t));
        return p;
    }

    /// <summary>The ONNX raw_data bytes of a tensor (sub-byte types packed, low bits first).</summary>
    public static byte[] RawBytes(Tensor t)
    {
        var bytes = MemoryMarshal.AsBytes(SpanOf(t));
        int bits = t.DataType.SerializedBits();
        if (bits >= 8) return bytes.ToArray();
        int perByte = 8 / bits, mask = (1 << bits) - 1;
        var packed = new byte[(t.Length + perByte - 1) / perByte];
        for (int i = 0; i < t.Length; i++)
            packed[i / perByte] |= (byte)((bytes[i] & mask) << ((i % perByte) * bits));
        return packed;
    }
}
