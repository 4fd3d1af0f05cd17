using System.Buffers;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// BatchNormalization inference on float32: per channel c, <c>y = x·a[c] + b[c]</c> with
/// <c>a = scale/√(var + ε)</c> and <c>b = B - mean·a</c> folded in float64 and rounded once, then one fused
/// multiply-add per element (ONNX Runtime folds the same way). The folded pair is computed when the
/// session is built if the four parameters are initializers, else per run into pooled scratch.
/// </summary>
[KernelRegistrations]
internal static class NormalizationFastBatch
{
    public static void Register(KernelRegistry r) => r.Add("BatchNormalization", info =>
    {
        var reference = ReferenceKernels.Create(info);
        bool training = info.Opset >= 14 ? info.GetInt("training_mode", 0) != 0
            : Enumerable.Range(1, Math.Max(0, info.Node.Outputs.Length - 1)).Any(info.Node.HasOutput);
        bool spatial = info.Opset >= 9 || info.GetInt("spatial", 1) != 0;
        if (training || !spatial) return reference;
        float epsilon = info.GetFloat("epsilon", 1e-5f);
        var folded = Enumerable.Range(1, 4).Select(info.ConstantInput).ToArray() is [{ } s, { } b, { } m, { } v] ? Fold(s, b, m, v, epsilon) : null;
        return new BatchKernel(epsilon, folded, reference);
    }, types: [DataType.Float], priority: ElementwiseFastKernels.Priority);

    /// <summary>[a0..aC-1, b0..bC-1], or null when the parameters do not all have C float elements.</summary>
    private static float[]? Fold(Tensor scale, Tensor bias, Tensor mean, Tensor variance, float epsilon)
    {
        var folded = new float[2 * scale.Length];
        return TryFold(scale, bias, mean, variance, epsilon, folded) ? folded : null;
    }

    private static bool TryFold(Tensor scale, Tensor bias, Tensor mean, Tensor variance, float epsilon, Span<float> folded)
    {
        int c = scale.Length;
        if (!Fits(scale, c) || !Fits(bias, c) || !Fits(mean, c) || !Fits(variance, c) || folded.Length != 2 * c) return false;
        ReadOnlySpan<float> s = scale.AsReadOnlySpan<float>(), b = bias.AsReadOnlySpan<float>(), m = mean.AsReadOnlySpan<float>(), v = variance.AsReadOnlySpan<float>();
        for (int i = 0; i < c; i++)
        {
            double a = s[i] / Math.Sqrt(v[i] + (double)epsilon);
            folded[i] = (float)a;
            folded[c + i] = (float)(b[i] - m[i] * a);
        }
        return true;
    }

    private static bool Fits(Tensor t, int length) => t.DataType == DataType.Float && t.Length == length;

    private sealed class BatchKernel(float epsilon, float[]? constantFolded, Kernel reference) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.DataType != DataType.Float || x.Rank < 2) { reference.Run(ctx); return; }
            int channels = x.Shape[1];
            var folded = constantFolded;
            if (folded is null)
            {
                folded = ArrayPool<float>.Shared.Rent(2 * channels);
                if (!TryFold(ctx.Input(1), ctx.Input(2), ctx.Input(3), ctx.Input(4), epsilon, folded.AsSpan(0, 2 * channels)))
                {
                    ArrayPool<float>.Shared.Return(folded);
                    folded = null;
                }
            }
            if (folded is null || (constantFolded is not null && constantFolded.Length != 2 * channels))
            {
                reference.Run(ctx); // parameters of the wrong size or type: the reference reports or handles them
                return;
            }
            var y = ctx.AllocateOutput(0, DataType.Float, x.Shape, clear: false);
            int spatial = x.Length / Math.Max(1, x.Shape[0] * channels);
            ElementwiseParallel.For(ctx.Pool, x.Length, new Job(x, y, folded, channels, spatial));
            if (!ReferenceEquals(folded, constantFolded)) ArrayPool<float>.Shared.Return(folded);
        }
    }

    /// <summary>Elements [start, end) of X viewed as [N·C rows of `spatial`], each row one channel's fused multiply-add.</summary>
    private readonly struct Job(Tensor x, Tensor y, float[] folded, int channels, int spatial) : IRangeJob
    {
        public void Run(int start, int end)
        {
            var src = x.AsReadOnlySpan<float>();
            var dst = y.AsSpan<float>();
            while (start < end)
            {
                int row = start / spatial, c = row % channels;
                int stop = Math.Min(end, (row + 1) * spatial);
                ElementwiseVectorLoops.Map(new VectorOps.ScaleShift<float>(folded[c], folded[channels + c]), src[start..stop], dst[start..stop]);
                start = stop;
            }
        }
    }
}
