namespace Loom.Kernels.Common;

/// <summary>A decoded image: 8-bit RGB, row-major, top row first (alpha is dropped, palettes and gray levels expanded).</summary>
internal sealed record DecodedImage(int Width, int Height, byte[] Rgb);

/// <summary>
/// Thrown for streams Loom cannot decode: corrupt ones (ImageDecoder then returns an empty image) or,
/// with <see cref="NotImplemented"/>, formats Loom has no decoder for.
/// </summary>
internal sealed class ImageFormatException(string message, bool notImplemented = false) : Exception(message)
{
    public bool NotImplemented { get; } = notImplemented;
}

/// <summary>Recognises an encoded image by its signature and decodes it with Loom's own decoders (BMP, PNM, PNG).</summary>
internal static class ImageCodec
{
    /// <summary>The decoded image, or throws <see cref="ImageFormatException"/> (unknown, unsupported or corrupt stream).</summary>
    public static DecodedImage Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 2 && data[0] == 'B' && data[1] == 'M') return ImageCodecBmp.Decode(data);
        if (data.Length >= 2 && data[0] == 'P' && data[1] is >= (byte)'1' and <= (byte)'6') return ImageCodecPnm.Decode(data);
        if (data.Length >= 8 && data[..8].SequenceEqual(ImageCodecPng.Signature)) return ImageCodecPng.Decode(data);
        if (UnimplementedFormat(data) is { } name) throw new ImageFormatException($"{name} decoding is not implemented", notImplemented: true);
        throw new ImageFormatException("the stream is not a recognised image format");
    }

    private static string? UnimplementedFormat(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return "JPEG";
        if (data.Length >= 4 && (data[0] == 'I' && data[1] == 'I' || data[0] == 'M' && data[1] == 'M')) return "TIFF";
        if (data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8)) return "WebP";
        if (data.Length >= 12 && data[4..8].SequenceEqual("jP  "u8) || data.Length >= 4 && data[0] == 0xFF && data[1] == 0x4F) return "JPEG 2000";
        return null;
    }

    /// <summary>Luma as Pillow's RGB-to-L conversion computes it (ITU-R 601-2 weights in 16-bit fixed point).</summary>
    public static byte Luma(byte r, byte g, byte b) => (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);

    /// <summary>Scales a sample in [0, <paramref name="max"/>] to [0, 255], rounding.</summary>
    public static byte Scale(int value, int max) => max == 255 ? (byte)value : (byte)((value * 255 + max / 2) / max);
}
