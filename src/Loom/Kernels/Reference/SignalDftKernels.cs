using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>DFT (opset 17: axis attribute; opset 20: axis input) and STFT (opset 17).</summary>
[KernelRegistrations]
internal static class SignalDftKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("DFT", info => new DftKernel(info.Opset >= 20, info.GetInt("axis", 1), info.GetInt("inverse", 0) != 0, info.GetInt("onesided", 0) != 0), 17);
        r.Add("STFT", info => new StftKernel(info.GetInt("onesided", 1) != 0), 17);
    }

    /// <summary>Reads a scalar (or one-element) integer input.</summary>
    internal static long? ScalarInt(KernelContext ctx, int i)
    {
        if (ctx.OptionalInput(i) is not { } t) return null;
        if (t.Length != 1) throw ctx.Fail($"input {i} must be a scalar, got shape {ShapeMath.Format(t.Shape)}");
        return ImageNumerics.ReadLongs(t)[0];
    }

    private sealed class DftKernel(bool axisIsInput, long axisAttribute, bool inverse, bool onesided) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            int rank = x.Rank;
            if (rank < 2 || x.Dims[^1] is not (1 or 2))
                throw ctx.Fail($"input has shape {ShapeMath.Format(x.Shape)}; the last dim must be 1 (real) or 2 (complex)");
            long a = axisIsInput ? ScalarInt(ctx, 2) ?? -2 : axisAttribute;
            if (a < -rank || a > rank - 2 || a == -1) throw ctx.Fail($"axis {a} is out of range for rank {rank} (the last dim holds real and imaginary parts)");
            int axis = (int)(a < 0 ? a + rank : a);
            bool irfft = inverse && onesided;
            long n = ScalarInt(ctx, 1) ?? (irfft ? 2L * (x.Dims[axis] - 1) : x.Dims[axis]);
            if (n < 1 || n > int.MaxValue) throw ctx.Fail($"dft_length {n} must be positive");
            int length = (int)n;
            int outLen = irfft ? length : onesided ? length / 2 + 1 : length;

            var outDims = x.Shape.ToArray();
            outDims[axis] = outLen;
            outDims[^1] = irfft ? 1 : 2;
            var y = ctx.AllocateOutput(0, x.DataType, outDims);
            if (y.Length == 0) return;

            var src = ImageNumerics.ToDoubles(x);
            var dst = new double[y.Length];
            int inLen = x.Dims[axis], inParts = x.Dims[^1], outParts = outDims[^1];
            long outer = 1, inner = 1;
            for (int d = 0; d < axis; d++) outer *= x.Dims[d];
            for (int d = axis + 1; d < rank - 1; d++) inner *= x.Dims[d];
            var fft = new SignalFft(length);
            var re = new double[length];
            var im = new double[length];
            // IRFFT reads the first length/2+1 bins and mirrors them (Hermitian symmetry).
            int take = irfft ? Math.Min(inLen, length / 2 + 1) : Math.Min(inLen, length);
            for (long o = 0; o < outer; o++)
                for (long i = 0; i < inner; i++)
                {
                    Array.Clear(re);
                    Array.Clear(im);
                    for (int k = 0; k < take; k++)
                    {
                        long at = ((o * inLen + k) * inner + i) * inParts;
                        re[k] = src[at];
                        im[k] = inParts == 2 ? src[at + 1] : 0;
                    }
                    if (irfft)
                        for (int k = 1; k < take; k++)
                            if (length - k >= take) { re[length - k] = re[k]; im[length - k] = -im[k]; }
                    fft.Transform(re, im, inverse);
                    double scale = inverse ? 1.0 / length : 1.0;
                    for (int k = 0; k < outLen; k++)
                    {
                        long at = ((o * outLen + k) * inner + i) * outParts;
                        dst[at] = re[k] * scale;
                        if (outParts == 2) dst[at + 1] = im[k] * scale;
                    }
                }
            ImageNumerics.Store(dst, y);
        }
    }

    private sealed class StftKernel(bool onesided) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var signal = ctx.Input(0);
            if (signal.Rank != 3 || signal.Dims[2] is not (1 or 2))
                throw ctx.Fail($"signal has shape {ShapeMath.Format(signal.Shape)}; expected [batch, length, 1 or 2]");
            long step = ScalarInt(ctx, 1) ?? throw ctx.Fail("frame_step is required");
            var windowT = ctx.OptionalInput(2);
            if (windowT is not null && windowT.Rank != 1) throw ctx.Fail($"window has shape {ShapeMath.Format(windowT.Shape)}; expected 1-D");
            long frameLength = ScalarInt(ctx, 3) ?? windowT?.Length ?? throw ctx.Fail("one of window and frame_length is required");
            if (windowT is not null && windowT.Length != frameLength)
                throw ctx.Fail($"window has {windowT.Length} elements but frame_length is {frameLength}");
            int batch = signal.Dims[0], len = signal.Dims[1], parts = signal.Dims[2];
            if (step < 1) throw ctx.Fail($"frame_step {step} must be positive");
            if (frameLength < 1 || frameLength > len) throw ctx.Fail($"frame_length {frameLength} must be in [1, {len}]");
            int n = (int)frameLength;
            int frames = (int)(1 + (len - n) / step);
            bool half = onesided && parts == 1;
            int bins = half ? n / 2 + 1 : n;
            var y = ctx.AllocateOutput(0, signal.DataType, [batch, frames, bins, 2]);
            if (y.Length == 0) return;

            var window = windowT is null ? null : ImageNumerics.ToDoubles(windowT);
            var src = ImageNumerics.ToDoubles(signal);
            var dst = new double[y.Length];
            var fft = new SignalFft(n);
            var re = new double[n];
            var im = new double[n];
            for (int b = 0; b < batch; b++)
                for (int f = 0; f < frames; f++)
                {
                    for (int k = 0; k < n; k++)
                    {
                        long at = ((long)b * len + f * step + k) * parts;
                        double w = window?[k] ?? 1;
                        re[k] = src[at] * w;
                        im[k] = parts == 2 ? src[at + 1] * w : 0;
                    }
                    fft.Transform(re, im, inverse: false);
                    for (int k = 0; k < bins; k++)
                    {
                        long at = (((long)b * frames + f) * bins + k) * 2;
                        dst[at] = re[k];
                        dst[at + 1] = im[k];
                    }
                }
            ImageNumerics.Store(dst, y);
        }
    }
}
