using System.Buffers.Binary;
using System.Numerics;

namespace Loom.Kernels.Common;

/// <summary>
/// Windows bitmaps: OS/2 core and Windows info headers (v3–v5), 1/4/8-bit palettes, 16/24/32-bit
/// direct colour (BI_RGB and BI_BITFIELDS), RLE8 and RLE4, bottom-up or top-down.
/// </summary>
internal static class ImageCodecBmp
{
    private const int Rgb = 0, Rle8 = 1, Rle4 = 2, BitFields = 3, AlphaBitFields = 6;

    public static DecodedImage Decode(ReadOnlySpan<byte> d)
    {
        if (d.Length < 26) throw new ImageFormatException("BMP header is truncated");
        int pixelOffset = I32(d, 10), headerSize = I32(d, 14);
        int width, height, bpp, compression = Rgb, colorsUsed = 0, paletteEntry = 4;
        if (headerSize == 12)
        {
            width = U16(d, 18); height = (short)U16(d, 20); bpp = U16(d, 24);
            paletteEntry = 3;
        }
        else
        {
            if (headerSize < 40 || d.Length < 14 + 40) throw new ImageFormatException($"BMP header size {headerSize} is not supported");
            width = I32(d, 18); height = I32(d, 22); bpp = U16(d, 28); compression = I32(d, 30); colorsUsed = I32(d, 46);
        }
        bool topDown = height < 0;
        height = Math.Abs(height);
        if (width < 1 || height < 1 || (long)width * height > int.MaxValue / 3) throw new ImageFormatException($"BMP size {width}x{height} is invalid");

        // Channel masks: in the header (v4+), after a 40-byte header for BI_BITFIELDS, or the BI_RGB defaults.
        uint[] masks = bpp == 16 ? [0x7C00, 0x03E0, 0x001F] : [0xFF0000, 0x00FF00, 0x0000FF];
        int paletteAt = 14 + headerSize;
        if (compression is BitFields or AlphaBitFields)
        {
            int at = headerSize >= 52 ? 14 + 40 : paletteAt;
            if (at + 12 > d.Length) throw new ImageFormatException("BMP bit masks are truncated");
            masks = [U32(d, at), U32(d, at + 4), U32(d, at + 8)];
            if (headerSize == 40) paletteAt += compression == AlphaBitFields ? 16 : 12;
        }
        else if (compression is not (Rgb or Rle8 or Rle4)) throw new ImageFormatException($"BMP compression {compression} is not supported");

        byte[][]? palette = null;
        if (bpp <= 8)
        {
            int count = colorsUsed > 0 ? Math.Min(colorsUsed, 1 << bpp) : 1 << bpp;
            palette = new byte[count][];
            for (int i = 0; i < count; i++)
            {
                int at = paletteAt + i * paletteEntry;
                if (at + 3 > d.Length) throw new ImageFormatException("BMP palette is truncated");
                palette[i] = [d[at + 2], d[at + 1], d[at]];
            }
        }
        if (pixelOffset < 0 || pixelOffset > d.Length) throw new ImageFormatException("BMP pixel offset is out of range");

        var rgb = new byte[width * height * 3];
        var pixels = d[pixelOffset..];
        if (compression is Rle8 or Rle4) DecodeRle(pixels, compression == Rle4, width, height, palette!, rgb, topDown);
        else
        {
            int stride = (int)(((long)bpp * width + 31) / 32 * 4);
            if ((long)stride * height > pixels.Length) throw new ImageFormatException("BMP pixel data is truncated");
            for (int row = 0; row < height; row++)
            {
                int y = topDown ? row : height - 1 - row;
                var line = pixels.Slice(row * stride, stride);
                for (int x = 0; x < width; x++)
                {
                    int o = (y * width + x) * 3;
                    switch (bpp)
                    {
                        case 1 or 2 or 4 or 8:
                        {
                            int bit = x * bpp;
                            int index = (line[bit / 8] >> (8 - bpp - bit % 8)) & ((1 << bpp) - 1);
                            SetPalette(palette!, index, rgb, o);
                            break;
                        }
                        case 24:
                            (rgb[o], rgb[o + 1], rgb[o + 2]) = (line[x * 3 + 2], line[x * 3 + 1], line[x * 3]);
                            break;
                        case 16 or 32:
                        {
                            uint v = bpp == 16 ? U16(line, x * 2) : U32(line, x * 4);
                            for (int c = 0; c < 3; c++) rgb[o + c] = Channel(v, masks[c]);
                            break;
                        }
                        default: throw new ImageFormatException($"BMP with {bpp} bits per pixel is not supported");
                    }
                }
            }
        }
        return new DecodedImage(width, height, rgb);
    }

    /// <summary>Run-length encoded 8- or 4-bit palette data; pixels the runs skip stay black.</summary>
    private static void DecodeRle(ReadOnlySpan<byte> p, bool four, int width, int height, byte[][] palette, byte[] rgb, bool topDown)
    {
        int x = 0, row = 0, pos = 0;
        void Put(int index, byte[] dst)
        {
            if (x < width && row < height)
                SetPalette(palette, index, dst, ((topDown ? row : height - 1 - row) * width + x) * 3);
            x++;
        }
        while (pos + 1 < p.Length && row < height)
        {
            int count = p[pos], value = p[pos + 1];
            pos += 2;
            if (count > 0)
            {
                for (int i = 0; i < count; i++) Put(four ? (i % 2 == 0 ? value >> 4 : value & 15) : value, rgb);
                continue;
            }
            switch (value)
            {
                case 0: x = 0; row++; break;   // end of line
                case 1: return;                // end of bitmap
                case 2:                        // delta
                    if (pos + 1 >= p.Length) return;
                    x += p[pos]; row += p[pos + 1]; pos += 2;
                    break;
                default:                       // absolute run of `value` pixels, padded to 16 bits
                    int bytes = four ? (value + 1) / 2 : value;
                    if (pos + bytes > p.Length) throw new ImageFormatException("BMP RLE data is truncated");
                    for (int i = 0; i < value; i++) Put(four ? (i % 2 == 0 ? p[pos + i / 2] >> 4 : p[pos + i / 2] & 15) : p[pos + i], rgb);
                    pos += (bytes + 1) & ~1;
                    break;
            }
        }
    }

    private static void SetPalette(byte[][] palette, int index, byte[] rgb, int o)
    {
        if (index >= palette.Length) throw new ImageFormatException($"BMP palette index {index} is out of range");
        (rgb[o], rgb[o + 1], rgb[o + 2]) = (palette[index][0], palette[index][1], palette[index][2]);
    }

    /// <summary>The masked field of <paramref name="v"/> scaled to 8 bits.</summary>
    private static byte Channel(uint v, uint mask)
    {
        if (mask == 0) return 0;
        int shift = BitOperations.TrailingZeroCount(mask), bits = BitOperations.PopCount(mask);
        uint field = (v & mask) >> shift;
        return bits >= 8 ? (byte)(field >> (bits - 8)) : ImageCodec.Scale((int)field, (1 << bits) - 1);
    }

    private static int I32(ReadOnlySpan<byte> d, int at) => at + 4 <= d.Length ? BinaryPrimitives.ReadInt32LittleEndian(d[at..]) : throw new ImageFormatException("BMP header is truncated");
    private static uint U32(ReadOnlySpan<byte> d, int at) => (uint)I32(d, at);
    private static ushort U16(ReadOnlySpan<byte> d, int at) => at + 2 <= d.Length ? BinaryPrimitives.ReadUInt16LittleEndian(d[at..]) : throw new ImageFormatException("BMP header is truncated");
}
