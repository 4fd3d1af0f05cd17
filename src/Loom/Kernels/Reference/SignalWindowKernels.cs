using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>HannWindow, HammingWindow, BlackmanWindow and MelWeightMatrix (opset 17).</summary>
[KernelRegistrations]
internal static class SignalWindowKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("HannWindow", info => Window(info, (n, period) => Square(Math.Sin(Math.PI * n / period))), 17);
        r.Add("HammingWindow", info => Window(info, (n, period) => 25.0 / 46 - 21.0 / 46 * Math.Cos(2 * Math.PI * n / period)), 17);
        r.Add("BlackmanWindow", info => Window(info, (n, period) => 0.42 - 0.5 * Math.Cos(2 * Math.PI * n / period) + 0.08 * Math.Cos(4 * Math.PI * n / period)), 17);
        r.Add("MelWeightMatrix", info => new MelWeightMatrixKernel(OutputType(info)), 17);
    }

    private static double Square(double v) => v * v;

    /// <summary>The output_datatype attribute, checked to be a numeric dtype.</summary>
    internal static DataType OutputType(KernelInfo info)
    {
        var dt = (DataType)info.GetInt("output_datatype", (long)DataType.Float);
        if (!ImageNumerics.IsNumeric(dt) || dt == DataType.Bool) throw info.Fail($"output_datatype {(int)dt} is not a numeric type");
        return dt;
    }

    private static WindowKernel Window(KernelInfo info, Func<int, int, double> shape) =>
        new(OutputType(info), info.GetInt("periodic", 1) != 0, shape);

    /// <summary>A window w[n] = shape(n, period), period = size (periodic) or size - 1 (symmetric).</summary>
    private sealed class WindowKernel(DataType dataType, bool periodic, Func<int, int, double> shape) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            long size = SignalDftKernels.ScalarInt(ctx, 0) ?? throw ctx.Fail("size is required");
            if (size < 0 || size > int.MaxValue) throw ctx.Fail($"size {size} is invalid");
            var y = ctx.AllocateOutput(0, dataType, [(int)size]);
            int period = periodic ? (int)size : (int)size - 1;
            var values = new double[size];
            for (int n = 0; n < size; n++) values[n] = shape(n, period); // a one-point symmetric window is 0/0 = NaN, as in ONNX Runtime
            ImageNumerics.Store(values, y, truncate: true);
        }
    }

    /// <summary>Triangular mel filter banks, one column per mel bin, over the one-sided DFT bins.</summary>
    private sealed class MelWeightMatrixKernel(DataType dataType) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            long melBins = SignalDftKernels.ScalarInt(ctx, 0) ?? 0, dftLength = SignalDftKernels.ScalarInt(ctx, 1) ?? 0, sampleRate = SignalDftKernels.ScalarInt(ctx, 2) ?? 0;
            if (melBins < 0 || dftLength < 1 || sampleRate < 1 || melBins > int.MaxValue || dftLength > int.MaxValue)
                throw ctx.Fail($"num_mel_bins {melBins}, dft_length {dftLength} and sample_rate {sampleRate} must be positive");
            float lower = (float)ctx.Input(3).GetDouble(0), upper = (float)ctx.Input(4).GetDouble(0);
            int spectrumBins = (int)(dftLength / 2 + 1), mels = (int)melBins;
            var y = ctx.AllocateOutput(0, dataType, [spectrumBins, mels]);

            // The mel edges are computed in float32 as ONNX's reference does, so the bin edges (floors) agree.
            float lowMel = 2595f * MathF.Log10(1 + lower / 700f), highMel = 2595f * MathF.Log10(1 + upper / 700f);
            float melStep = (highMel - lowMel) / (mels + 2);
            var edges = new int[mels + 2];
            for (int i = 0; i < edges.Length; i++)
            {
                double hz = 700 * (Math.Pow(10, (i * (double)melStep + lowMel) / 2595) - 1);
                edges[i] = (int)Math.Floor((dftLength + 1) * hz / sampleRate);
            }
            var w = new double[y.Length];
            for (int m = 0; m < mels; m++)
            {
                int left = edges[m], centre = edges[m + 1], right = edges[m + 2];
                if (left < 0 || centre >= spectrumBins || right > spectrumBins)
                    throw ctx.Fail($"mel bin {m} spans DFT bins {left}..{right}, outside [0, {spectrumBins}); check the hertz range against sample_rate");
                if (centre == left) w[centre * mels + m] = 1;
                else for (int j = left; j <= centre; j++) w[j * mels + m] = (double)(j - left) / (centre - left);
                for (int j = centre; j < right; j++) w[j * mels + m] = (double)(right - j) / (right - centre);
            }
            ImageNumerics.Store(w, y, truncate: true);
        }
    }
}
