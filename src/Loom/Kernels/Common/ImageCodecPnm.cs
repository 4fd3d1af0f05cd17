namespace Loom.Kernels.Common;

/// <summary>Netpbm images: P1/P4 (bitmap), P2/P5 (gray) and P3/P6 (RGB), ASCII or binary, maxval up to 65535.</summary>
internal static class ImageCodecPnm
{
    public static DecodedImage Decode(ReadOnlySpan<byte> data)
    {
        int kind = data[1] - '0';
        int pos = 2;
        int width = Number(data, ref pos), height = Number(data, ref pos);
        bool bitmap = kind is 1 or 4;
        int max = bitmap ? 1 : Number(data, ref pos);
        if (width < 1 || height < 1 || max < 1 || max > 65535 || (long)width * height > int.MaxValue / 3)
            throw new ImageFormatException($"PNM header is invalid ({width}x{height}, maxval {max})");
        bool ascii = kind <= 3;
        int channels = kind is 3 or 6 ? 3 : 1;
        if (!ascii) pos++; // exactly one whitespace byte separates the header from binary data
        var rgb = new byte[width * height * 3];
        int bytesPerSample = max > 255 ? 2 : 1;
        int rowBytes = (width + 7) / 8; // P4 rows are padded to whole bytes
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                {
                    int v;
                    if (ascii) v = kind == 1 ? Bit(data, ref pos) : Number(data, ref pos);
                    else if (kind == 4)
                    {
                        int at = pos + y * rowBytes + x / 8;
                        if (at >= data.Length) throw new ImageFormatException("PBM data is truncated");
                        v = (data[at] >> (7 - x % 8)) & 1;
                    }
                    else
                    {
                        int at = pos + ((y * width + x) * channels + c) * bytesPerSample;
                        if (at + bytesPerSample > data.Length) throw new ImageFormatException("PNM data is truncated");
                        v = bytesPerSample == 2 ? data[at] << 8 | data[at + 1] : data[at];
                    }
                    if (v > max) throw new ImageFormatException($"PNM sample {v} exceeds maxval {max}");
                    // In bitmaps 1 is black.
                    byte b = bitmap ? (byte)(v == 1 ? 0 : 255) : ImageCodec.Scale(v, max);
                    int o = (y * width + x) * 3;
                    if (channels == 1) rgb[o] = rgb[o + 1] = rgb[o + 2] = b;
                    else rgb[o + c] = b;
                }
        return new DecodedImage(width, height, rgb);
    }

    private static void SkipSpace(ReadOnlySpan<byte> d, ref int pos)
    {
        while (pos < d.Length)
        {
            if (d[pos] == '#') { while (pos < d.Length && d[pos] != '\n' && d[pos] != '\r') pos++; }
            else if (d[pos] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f') pos++;
            else return;
        }
    }

    private static int Number(ReadOnlySpan<byte> d, ref int pos)
    {
        SkipSpace(d, ref pos);
        if (pos >= d.Length || d[pos] < '0' || d[pos] > '9') throw new ImageFormatException("PNM header or data is malformed");
        long v = 0;
        while (pos < d.Length && d[pos] >= '0' && d[pos] <= '9')
        {
            v = v * 10 + (d[pos++] - '0');
            if (v > int.MaxValue) throw new ImageFormatException("PNM number is too large");
        }
        return (int)v;
    }

    // ASCII bitmaps may run their digits together ("0110").
    private static int Bit(ReadOnlySpan<byte> d, ref int pos)
    {
        SkipSpace(d, ref pos);
        if (pos >= d.Length || d[pos] is not ((byte)'0' or (byte)'1')) throw new ImageFormatException("PBM data is malformed");
        return d[pos++] - '0';
    }
}
