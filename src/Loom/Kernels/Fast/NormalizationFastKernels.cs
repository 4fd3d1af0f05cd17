using System.Buffers;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// LayerNormalization, RMSNormalization and InstanceNormalization on float32 rows: statistics with the
/// SIMD float64 sums (two-pass variance, as the reference), the normalization in float64 lanes in the
/// reference's order, so each output is rounded once as there. LayerNormalization and RMSNormalization
/// need Scale (and B) of the normalized shape (the usual case; other broadcasts go to the reference);
/// their float64 copies are made once when they are initializers. Rows are split over the worker pool.
/// </summary>
[KernelRegistrations]
internal static class NormalizationFastKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("LayerNormalization", info => CreateLayer(info, rms: false), 17, types: [DataType.Float], priority: ElementwiseFastKernels.Priority);
        r.Add("RMSNormalization", info => CreateLayer(info, rms: true), 23, types: [DataType.Float], priority: ElementwiseFastKernels.Priority);
        r.Add("InstanceNormalization", info => new InstanceKernel(info.GetFloat("epsilon", 1e-5f), ReferenceKernels.Create(info)),
            types: [DataType.Float], priority: ElementwiseFastKernels.Priority);
    }

    private static Kernel CreateLayer(KernelInfo info, bool rms)
    {
        var reference = ReferenceKernels.Create(info);
        if (info.GetInt("stash_type", 1) != (int)DataType.Float) return reference;
        return new LayerKernel(rms, info.GetInt("axis", -1), info.GetFloat("epsilon", 1e-5f),
            Doubles(info.ConstantInput(1)), rms ? null : Doubles(info.ConstantInput(2)), reference);
    }

    private static double[]? Doubles(Tensor? t) => t is { DataType: DataType.Float } ? Array.ConvertAll(t.ToArray<float>(), v => (double)v) : null;

    /// <summary>Copies float32 parameters into rented float64 scratch (returned by the caller).</summary>
    private static double[] Rent(Tensor t)
    {
        var d = ArrayPool<double>.Shared.Rent(t.Length);
        var s = t.AsReadOnlySpan<float>();
        for (int i = 0; i < s.Length; i++) d[i] = s[i];
        return d;
    }

    private sealed class LayerKernel(bool rms, long axis, float epsilon, double[]? constScale, double[]? constBias, Kernel reference) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            Tensor scale = ctx.Input(1), bias = rms ? scale : ctx.OptionalInput(2) ?? scale;
            bool hasBias = !rms && ctx.OptionalInput(2) is not null;
            int rank = x.Rank;
            if (x.DataType != DataType.Float || axis < -rank || axis >= rank || x.Length == 0 || scale.DataType != DataType.Float || bias.DataType != DataType.Float)
            {
                reference.Run(ctx);
                return;
            }
            int a = (int)(axis < 0 ? axis + rank : axis);
            int row = 1;
            for (int d = a; d < rank; d++) row *= x.Shape[d];
            if (!NormalizedShape(scale, x, a) || (hasBias && !NormalizedShape(bias, x, a)))
            {
                reference.Run(ctx); // Scale or B broadcast over rows too
                return;
            }
            var s = constScale ?? Rent(scale);
            double[]? b = !hasBias ? null : constBias ?? Rent(bias);
            var zeros = b is null ? ArrayPool<double>.Shared.Rent(row) : null;
            zeros?.AsSpan(0, row).Clear();
            var y = ctx.AllocateOutput(0, DataType.Float, x.Shape, clear: false);
            Span<int> statShape = stackalloc int[rank];
            for (int d = 0; d < rank; d++) statShape[d] = d < a ? x.Shape[d] : 1;
            Tensor? mean = !rms && ctx.IsOutputRequested(1) ? ctx.AllocateOutput(1, DataType.Float, statShape, clear: false) : null;
            Tensor? inv = !rms && ctx.IsOutputRequested(2) ? ctx.AllocateOutput(2, DataType.Float, statShape, clear: false) : null;
            ElementwiseParallel.For(ctx.Pool, x.Length / row, new Rows(x, y, row, rms, epsilon, s, b ?? zeros!, mean, inv),
                Math.Max(1, ElementwiseParallel.CheapOpThreshold / row));
            if (!ReferenceEquals(s, constScale)) ArrayPool<double>.Shared.Return(s);
            if (b is not null && !ReferenceEquals(b, constBias)) ArrayPool<double>.Shared.Return(b);
            if (zeros is not null) ArrayPool<double>.Shared.Return(zeros);
        }

        /// <summary>True when <paramref name="p"/> has X's dims from <paramref name="axis"/> on (leading 1s allowed): one value per row element.</summary>
        private static bool NormalizedShape(Tensor p, Tensor x, int axis)
        {
            int tail = x.Rank - axis;
            if (p.Rank < tail) return false;
            for (int d = 0; d < p.Rank - tail; d++) if (p.Shape[d] != 1) return false;
            return p.Shape[^tail..].SequenceEqual(x.Shape[axis..]);
        }
    }

    private readonly struct Rows(Tensor x, Tensor y, int row, bool rms, float epsilon, double[] scale, double[] bias, Tensor? mean, Tensor? inv) : IRangeJob
    {
        public void Run(int start, int end)
        {
            var src = x.AsReadOnlySpan<float>();
            var dst = y.AsSpan<float>();
            for (int r = start; r < end; r++)
            {
                var input = src.Slice(r * row, row);
                double m = 0, k;
                if (rms) k = 1 / Math.Sqrt(ReduceVector.Sum(input, new ReduceVector.Square()) / row + epsilon);
                else
                {
                    m = ReduceVector.Sum(input, new ReduceVector.Value()) / row;
                    k = 1 / Math.Sqrt(ReduceVector.Sum(input, new ReduceVector.SquaredDeviation(m)) / row + epsilon);
                }
                NormalizationVector.Normalize(input, dst.Slice(r * row, row), m, k, scale.AsSpan(0, row), bias.AsSpan(0, row));
                if (mean is not null) mean.AsSpan<float>()[r] = (float)m;
                if (inv is not null) inv.AsSpan<float>()[r] = (float)k;
            }
        }
    }

    /// <summary>InstanceNormalization: each (sample, channel) plane standardized, then scaled and shifted per channel.</summary>
    private sealed class InstanceKernel(float epsilon, Kernel reference) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            Tensor x = ctx.Input(0), scale = ctx.Input(1), bias = ctx.Input(2);
            if (x.DataType != DataType.Float || x.Rank < 3 || x.Length == 0 || scale.DataType != DataType.Float || bias.DataType != DataType.Float
                || scale.Length != x.Shape[1] || bias.Length != x.Shape[1])
            {
                reference.Run(ctx);
                return;
            }
            var y = ctx.AllocateOutput(0, DataType.Float, x.Shape, clear: false);
            int plane = x.Length / (x.Shape[0] * x.Shape[1]);
            ElementwiseParallel.For(ctx.Pool, x.Shape[0] * x.Shape[1], new Planes(x, y, scale, bias, plane, epsilon), Math.Max(1, ElementwiseParallel.CheapOpThreshold / plane));
        }
    }

    private readonly struct Planes(Tensor x, Tensor y, Tensor scale, Tensor bias, int plane, float epsilon) : IRangeJob
    {
        public void Run(int start, int end)
        {
            var src = x.AsReadOnlySpan<float>();
            var dst = y.AsSpan<float>();
            ReadOnlySpan<float> s = scale.AsReadOnlySpan<float>(), b = bias.AsReadOnlySpan<float>();
            for (int r = start; r < end; r++)
            {
                var input = src.Slice(r * plane, plane);
                double m = ReduceVector.Sum(input, new ReduceVector.Value()) / plane;
                double k = 1 / Math.Sqrt(ReduceVector.Sum(input, new ReduceVector.SquaredDeviation(m)) / plane + epsilon);
                int c = r % s.Length;
                NormalizationVector.Normalize(input, dst.Slice(r * plane, plane), m, k, s[c], b[c]);
            }
        }
    }
}
