using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Loom;

/// <summary>
/// NumPy's <c>.npy</c> format (version 1-3), little-endian, C order: how <c>loom run</c> takes inputs and
/// writes outputs. The header's shape is checked against the bytes the file really has before any
/// buffer is allocated.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static Tensor Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException($"cannot read '{path}': {e.Message}", e); }
        return Read(bytes, path);
    }

    public static Tensor Read(byte[] bytes, string where)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic)) throw new ModelFormatException($"{where}: not a .npy file");
        int major = bytes[6];
        int headerLen, start;
        if (major == 1) { headerLen = BitConverter.ToUInt16(bytes, 8); start = 10; }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new ModelFormatException($"{where}: truncated .npy header");
            headerLen = checked((int)Math.Min(BitConverter.ToUInt32(bytes, 8), int.MaxValue)); start = 12;
        }
        else throw new ModelFormatException($"{where}: .npy version {major} is not supported");
        if (headerLen > bytes.Length - start) throw new ModelFormatException($"{where}: truncated .npy header");
        var header = Encoding.Latin1.GetString(bytes, start, headerLen);

        var descr = DescrRegex().Match(header);
        var order = OrderRegex().Match(header);
        var shape = ShapeRegex().Match(header);
        if (!descr.Success || !shape.Success) throw new ModelFormatException($"{where}: .npy header '{header.Trim()}' lacks descr or shape");
        if (order.Success && order.Groups[1].Value == "True") throw new UnsupportedException($"{where}: Fortran-order .npy files are not supported");
        var dt = descr.Groups[1].Value switch
        {
            "<f4" => DataType.Float, "<f8" => DataType.Double, "<f2" => DataType.Float16,
            "|i1" or "<i1" => DataType.Int8, "<i2" => DataType.Int16, "<i4" => DataType.Int32, "<i8" => DataType.Int64,
            "|u1" or "<u1" => DataType.UInt8, "<u2" => DataType.UInt16, "<u4" => DataType.UInt32, "<u8" => DataType.UInt64,
            "|b1" => DataType.Bool,
            var d => throw new UnsupportedException($"{where}: .npy dtype '{d}' is not supported"),
        };
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s.TrimEnd('L'), out var v) && v >= 0 && v <= int.MaxValue ? (int)v : throw new ModelFormatException($"{where}: bad dimension '{s}' in .npy header"))
            .ToArray();
        int dataStart = start + headerLen;
        long needed = ShapeMath.Size(dims) * dt.ElementSize();
        if (needed != bytes.Length - dataStart)
            throw new ModelFormatException($"{where}: .npy header says {ShapeMath.Format(dims)} of {dt.Name()} ({needed} bytes) but the file holds {bytes.Length - dataStart}");
        var t = Tensor.Zeros(dt, dims);
        bytes.AsSpan(dataStart).CopyTo(ByteView(t));
        return t;
    }

    public static void Write(Tensor t, string path)
    {
        var bytes = Write(t);
        var temp = path + ".tmp" + Environment.ProcessId;
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    public static byte[] Write(Tensor t)
    {
        string descr = t.DataType switch
        {
            DataType.Float => "<f4", DataType.Double => "<f8", DataType.Float16 => "<f2",
            DataType.Int8 => "|i1", DataType.Int16 => "<i2", DataType.Int32 => "<i4", DataType.Int64 => "<i8",
            DataType.UInt8 => "|u1", DataType.UInt16 => "<u2", DataType.UInt32 => "<u4", DataType.UInt64 => "<u8",
            DataType.Bool => "|b1",
            _ => throw new UnsupportedException($"a {t.DataType.Name()} tensor cannot be written as .npy"),
        };
        var shape = t.Rank == 1 ? $"({t.Shape[0]},)" : "(" + string.Join(", ", t.Shape.ToArray()) + ")";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var ms = new MemoryStream();
        ms.Write(Magic);
        ms.WriteByte(1); ms.WriteByte(0);
        ms.Write(BitConverter.GetBytes((ushort)header.Length));
        ms.Write(Encoding.Latin1.GetBytes(header));
        ms.Write(ByteView(t));
        return ms.ToArray();
    }

    private static Span<byte> ByteView(Tensor t) => t.Buffer switch
    {
        float[] => MemoryMarshal.AsBytes(t.AsSpan<float>()),
        double[] => MemoryMarshal.AsBytes(t.AsSpan<double>()),
        Half[] => MemoryMarshal.AsBytes(t.AsSpan<Half>()),
        sbyte[] => MemoryMarshal.AsBytes(t.AsSpan<sbyte>()),
        byte[] => t.AsSpan<byte>(),
        short[] => MemoryMarshal.AsBytes(t.AsSpan<short>()),
        ushort[] => MemoryMarshal.AsBytes(t.AsSpan<ushort>()),
        int[] => MemoryMarshal.AsBytes(t.AsSpan<int>()),
        uint[] => MemoryMarshal.AsBytes(t.AsSpan<uint>()),
        long[] => MemoryMarshal.AsBytes(t.AsSpan<long>()),
        ulong[] => MemoryMarshal.AsBytes(t.AsSpan<ulong>()),
        bool[] => MemoryMarshal.AsBytes(t.AsSpan<bool>()),
        _ => throw new UnsupportedException($"no byte view of {t.DataType.Name()}"),
    };

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex OrderRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
