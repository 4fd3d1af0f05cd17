using System.Buffers.Binary;
using System.IO.Compression;

namespace Loom.Kernels.Common;

/// <summary>
/// PNG: every colour type and bit depth (16-bit samples keep their high byte), palettes, the five row
/// filters and Adam7 interlacing. The zlib stream is inflated by System.IO.Compression.
/// </summary>
internal static class ImageCodecPng
{
    public static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    public static DecodedImage Decode(ReadOnlySpan<byte> d)
    {
        int width = 0, height = 0, depth = 0, colorType = 0, interlace = 0;
        byte[]? palette = null;
        using var idat = new MemoryStream();
        bool headerSeen = false;
        for (int pos = 8; ;)
        {
            if (pos + 8 > d.Length) throw new ImageFormatException("PNG ends before its IEND chunk");
            int length = BinaryPrimitives.ReadInt32BigEndian(d[pos..]);
            var type = d.Slice(pos + 4, 4);
            if (length < 0 || pos + 12L + length > d.Length) throw new ImageFormatException("PNG chunk is truncated");
            var body = d.Slice(pos + 8, length);
            pos += 12 + length;
            if (type.SequenceEqual("IHDR"u8))
            {
                if (length < 13) throw new ImageFormatException("PNG IHDR is truncated");
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                (depth, colorType, interlace) = (body[8], body[9], body[12]);
                headerSeen = true;
            }
            else if (type.SequenceEqual("PLTE"u8)) palette = body.ToArray();
            else if (type.SequenceEqual("IDAT"u8)) idat.Write(body);
            else if (type.SequenceEqual("IEND"u8)) break;
        }
        if (!headerSeen || width < 1 || height < 1 || (long)width * height > int.MaxValue / 3) throw new ImageFormatException($"PNG size {width}x{height} is invalid");
        int samples = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => throw new ImageFormatException($"PNG colour type {colorType} is invalid") };
        if (depth is not (1 or 2 or 4 or 8 or 16) || colorType is 2 or 4 or 6 && depth < 8 || colorType == 3 && (depth > 8 || palette is null))
            throw new ImageFormatException($"PNG bit depth {depth} is invalid for colour type {colorType}");

        byte[] raw;
        try
        {
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            using var all = new MemoryStream();
            z.CopyTo(all);
            raw = all.ToArray();
        }
        catch (InvalidDataException e) { throw new ImageFormatException($"PNG image data is corrupt: {e.Message}"); }

        var rgb = new byte[width * height * 3];
        int pos2 = 0;
        if (interlace == 0) DecodePass(raw, ref pos2, width, height, depth, samples, colorType, palette, rgb, width, 0, 0, 1, 1);
        else
        {
            // Adam7: seven passes over sub-grids (start x, start y, step x, step y).
            ReadOnlySpan<int> passes = [0, 0, 8, 8, 4, 0, 8, 8, 0, 4, 4, 8, 2, 0, 4, 4, 0, 2, 2, 4, 1, 0, 2, 2, 0, 1, 1, 2];
            for (int p = 0; p < 7; p++)
            {
                int x0 = passes[p * 4], y0 = passes[p * 4 + 1], dx = passes[p * 4 + 2], dy = passes[p * 4 + 3];
                int w = (width - x0 + dx - 1) / dx, h = (height - y0 + dy - 1) / dy;
                if (w > 0 && h > 0) DecodePass(raw, ref pos2, w, h, depth, samples, colorType, palette, rgb, width, x0, y0, dx, dy);
            }
        }
        return new DecodedImage(width, height, rgb);
    }

    /// <summary>Unfilters one (sub-)image of <paramref name="w"/>×<paramref name="h"/> and writes its pixels into the full image.</summary>
    private static void DecodePass(byte[] raw, ref int pos, int w, int h, int depth, int samples, int colorType, byte[]? palette,
        byte[] rgb, int fullWidth, int x0, int y0, int dx, int dy)
    {
        int bitsPerPixel = depth * samples;
        int stride = (int)(((long)w * bitsPerPixel + 7) / 8);
        int bpp = Math.Max(1, bitsPerPixel / 8); // filter distance in bytes
        var prev = new byte[stride];
        var line = new byte[stride];
        for (int y = 0; y < h; y++)
        {
            if (pos + 1 + stride > raw.Length) throw new ImageFormatException("PNG image data is truncated");
            int filter = raw[pos];
            raw.AsSpan(pos + 1, stride).CopyTo(line);
            pos += 1 + stride;
            Unfilter(filter, line, prev, bpp);
            for (int x = 0; x < w; x++)
            {
                int o = ((y0 + y * dy) * fullWidth + x0 + x * dx) * 3;
                if (colorType == 3)
                {
                    int index = Sample(line, x, depth);
                    if (index * 3 + 2 >= palette!.Length) throw new ImageFormatException($"PNG palette index {index} is out of range");
                    (rgb[o], rgb[o + 1], rgb[o + 2]) = (palette[index * 3], palette[index * 3 + 1], palette[index * 3 + 2]);
                }
                else if (colorType is 0 or 4)
                {
                    int v = Sample(line, x * samples, depth);
                    rgb[o] = rgb[o + 1] = rgb[o + 2] = depth == 16 ? (byte)(v >> 8) : ImageCodec.Scale(v, (1 << depth) - 1);
                }
                else
                    for (int c = 0; c < 3; c++)
                    {
                        int v = Sample(line, x * samples + c, depth);
                        rgb[o + c] = depth == 16 ? (byte)(v >> 8) : (byte)v;
                    }
            }
            (prev, line) = (line, prev);
        }
    }

    /// <summary>Sample <paramref name="index"/> of a row of <paramref name="depth"/>-bit samples (packed high bits first, 16-bit big-endian).</summary>
    private static int Sample(byte[] line, int index, int depth) => depth switch
    {
        8 => line[index],
        16 => line[index * 2] << 8 | line[index * 2 + 1],
        _ => (line[index * depth / 8] >> (8 - depth - index * depth % 8)) & ((1 << depth) - 1),
    };

    private static void Unfilter(int filter, byte[] line, byte[] prev, int bpp)
    {
        switch (filter)
        {
            case 0: break;
            case 1: for (int i = bpp; i < line.Length; i++) line[i] += line[i - bpp]; break;
            case 2: for (int i = 0; i < line.Length; i++) line[i] += prev[i]; break;
            case 3:
                for (int i = 0; i < line.Length; i++) line[i] += (byte)(((i >= bpp ? line[i - bpp] : 0) + prev[i]) / 2);
                break;
            case 4:
                for (int i = 0; i < line.Length; i++)
                {
                    int a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    line[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                break;
            default: throw new ImageFormatException($"PNG row filter {filter} is invalid");
        }
    }
}
