using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>ImageDecoder (opset 20) for BMP, PNM and PNG streams; other formats (JPEG, JPEG 2000, TIFF, WebP) are not implemented.</summary>
[KernelRegistrations]
internal static class ImageDecoderKernels
{
    public static void Register(KernelRegistry r) => r.Add("ImageDecoder", info => new ImageDecoderKernel(info.GetString("pixel_format", "RGB") switch
    {
        "RGB" => PixelFormat.Rgb,
        "BGR" => PixelFormat.Bgr,
        "Grayscale" => PixelFormat.Gray,
        var f => throw info.Fail($"pixel_format '{f}' is not supported (expected RGB, BGR or Grayscale)"),
    }), 20);

    private enum PixelFormat { Rgb, Bgr, Gray }

    private sealed class ImageDecoderKernel(PixelFormat format) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var encoded = ctx.Input(0);
            if (encoded.DataType != DataType.UInt8) throw ctx.Fail($"encoded_stream is {encoded.DataType.Name()}; expected uint8");
            int channels = format == PixelFormat.Gray ? 1 : 3;
            DecodedImage image;
            try { image = ImageCodec.Decode(encoded.AsReadOnlySpan<byte>()); }
            catch (ImageFormatException e)
            {
                // The spec asks for an empty image when the stream cannot be decoded; an unimplemented
                // format is reported as an error so it is not mistaken for a corrupt file.
                if (e.NotImplemented) throw ctx.Fail(e.Message);
                ctx.AllocateOutput(0, DataType.UInt8, [0, 0, channels]);
                return;
            }
            var y = ctx.AllocateOutput(0, DataType.UInt8, [image.Height, image.Width, channels]);
            var dst = y.AsSpan<byte>();
            var src = image.Rgb;
            for (int i = 0, n = image.Width * image.Height; i < n; i++)
            {
                byte r = src[i * 3], g = src[i * 3 + 1], b = src[i * 3 + 2];
                switch (format)
                {
                    case PixelFormat.Rgb: (dst[i * 3], dst[i * 3 + 1], dst[i * 3 + 2]) = (r, g, b); break;
                    case PixelFormat.Bgr: (dst[i * 3], dst[i * 3 + 1], dst[i * 3 + 2]) = (b, g, r); break;
                    default: dst[i] = ImageCodec.Luma(r, g, b); break;
                }
            }
        }
    }
}
