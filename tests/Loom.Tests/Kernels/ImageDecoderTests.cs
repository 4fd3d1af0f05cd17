using System.Buffers.Binary;
using System.IO.Compression;
using Loom.Tests.Support;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class ImageDecoderTests
{
    // A 2x2 image: red, green / blue, white.
    private static readonly byte[] Expected = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];

    private static Tensor Decode(byte[] stream, string format = "RGB") =>
        OpTester.Run("ImageDecoder", [Attr.String("pixel_format", format)], Tensor.FromArray(stream, stream.Length))[0];

    private static byte[] Bmp24()
    {
        // Bottom-up rows, BGR, padded to 4 bytes: row 1 (blue, white) first.
        byte[] pixels = [255, 0, 0, 255, 255, 255, 0, 0, 0, 0, 255, 0, 255, 0, 0, 0];
        var b = new byte[54 + pixels.Length];
        "BM"u8.CopyTo(b);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), b.Length);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), 2);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), 2);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), 24);
        pixels.CopyTo(b, 54);
        return b;
    }

    private static byte[] Png(byte colorType, byte depth, byte[] scanlines, byte[]? palette = null)
    {
        using var ms = new MemoryStream();
        ms.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        void Chunk(string type, byte[] body)
        {
            var len = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(len, body.Length);
            ms.Write(len);
            ms.Write(System.Text.Encoding.ASCII.GetBytes(type));
            ms.Write(body);
            ms.Write(new byte[4]); // CRC (not checked)
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, 2);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), 2);
        (ihdr[8], ihdr[9]) = (depth, colorType);
        Chunk("IHDR", ihdr);
        if (palette is not null) Chunk("PLTE", palette);
        using (var z = new MemoryStream())
        {
            using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(scanlines);
            Chunk("IDAT", z.ToArray());
        }
        Chunk("IEND", []);
        return ms.ToArray();
    }

    [Fact]
    public void Bmp_24_bit_bottom_up()
    {
        var y = Decode(Bmp24());
        Assert.Equal([2, 2, 3], y.Shape.ToArray());
        Assert.Equal(Expected, y.ToArray<byte>());
    }

    [Fact]
    public void Ppm_ascii_and_binary()
    {
        var ascii = System.Text.Encoding.ASCII.GetBytes("P3\n# two by two\n2 2\n255\n255 0 0  0 255 0\n0 0 255  255 255 255\n");
        Assert.Equal(Expected, Decode(ascii).ToArray<byte>());
        var binary = System.Text.Encoding.ASCII.GetBytes("P6 2 2 255\n").Concat(Expected).ToArray();
        Assert.Equal(Expected, Decode(binary).ToArray<byte>());
    }

    [Fact]
    public void Pbm_one_is_black()
    {
        var y = Decode(System.Text.Encoding.ASCII.GetBytes("P1 2 1 10"), "Grayscale");
        Assert.Equal([1, 2, 1], y.Shape.ToArray());
        Assert.Equal(new byte[] { 0, 255 }, y.ToArray<byte>());
    }

    [Fact]
    public void Png_rgb_with_sub_and_up_filters()
    {
        // Row 0 uses Sub (bytes minus the pixel to the left), row 1 uses Up (bytes minus the row above), mod 256.
        byte[] rows = [1, 255, 0, 0, 1, 255, 0, 2, 1, 0, 255, 255, 0, 255];
        var y = Decode(Png(2, 8, rows));
        Assert.Equal(Expected, y.ToArray<byte>());
    }

    [Fact]
    public void Png_palette_and_bgr()
    {
        // 2-bit indices 0 1 / 2 3, packed high bits first.
        byte[] palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];
        var y = Decode(Png(3, 2, [0, 0b0001_0000, 0, 0b1011_0000], palette), "BGR");
        Assert.Equal(new byte[] { 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255 }, y.ToArray<byte>());
    }

    [Fact]
    public void Grayscale_uses_pillow_luma()
    {
        // (r*19595 + g*38470 + b*7471 + 0x8000) >> 16 for red, green, blue, white.
        var y = Decode(Bmp24(), "Grayscale");
        Assert.Equal([2, 2, 1], y.Shape.ToArray());
        Assert.Equal(new byte[] { 76, 150, 29, 255 }, y.ToArray<byte>());
    }

    [Fact]
    public void Corrupt_stream_gives_empty_image()
    {
        var y = Decode([66, 77, 1, 2, 3]);
        Assert.Equal([0, 0, 3], y.Shape.ToArray());
    }
}
