using System.Numerics.Tensors;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// LRN on float32: <c>y = x / (bias + alpha/size · Σ x²)^beta</c>, the sum over the channel window
/// [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉] at each position. GoogLeNet and AlexNet run it on their widest
/// early planes, where the reference kernel's scalar double-precision <c>Math.Pow</c> cost more than all the
/// convolutions around it. Here each chunk of a channel plane is summed with fused multiply-adds and the
/// power is vectorized: beta = 0.75 (every model that uses LRN) as <c>1/(√t·√√t)</c>, 0.5 and 1 exactly,
/// others as <c>exp(−beta·log t)</c>; chunks are split over the worker pool.
/// </summary>
[KernelRegistrations]
internal static class NormalizationFastLrn
{
    public static void Register(KernelRegistry r) => r.Add("LRN", info =>
    {
        var reference = ReferenceKernels.Create(info);
        long size = info.GetInt("size", 0);
        if (size <= 0) return reference; // the reference reports it
        return new LrnKernel(info.GetFloat("alpha", 1e-4f), info.GetFloat("beta", 0.75f), info.GetFloat("bias", 1f), (int)size, reference);
    }, types: [DataType.Float], priority: ElementwiseFastKernels.Priority);

    /// <summary>Positions handled per step, so the window sums stay in L1.</summary>
    private const int Chunk = 512;

    private sealed class LrnKernel(float alpha, float beta, float bias, int size, Kernel reference) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.DataType != DataType.Float || x.Rank < 2) { reference.Run(ctx); return; }
            var y = ctx.AllocateOutput(0, DataType.Float, x.Shape, clear: false);
            int channels = x.Shape[1];
            int spatial = channels == 0 ? 0 : x.Length / Math.Max(1, x.Shape[0] * channels);
            if (x.Length == 0) return;
            // About twenty operations an element: worth splitting at a quarter of a cheap op's threshold.
            ElementwiseParallel.For(ctx.Pool, x.Length, new Job(x, y, channels, spatial, alpha / size, beta, bias, size),
                ElementwiseParallel.CheapOpThreshold / 4);
        }
    }

    /// <summary>Elements [start, end) of X viewed as N·C rows of <c>spatial</c> positions.</summary>
    private readonly struct Job(Tensor x, Tensor y, int channels, int spatial, float scale, float beta, float bias, int size) : IRangeJob
    {
        public void Run(int start, int end)
        {
            ReadOnlySpan<float> src = x.AsReadOnlySpan<float>();
            Span<float> dst = y.AsSpan<float>();
            Span<float> t = stackalloc float[Chunk], u = stackalloc float[Chunk];
            int before = (size - 1) / 2, after = size - 1 - before;
            while (start < end)
            {
                int row = start / spatial, c = row % channels, plane0 = (row - c) * spatial; // first element of this sample
                int i = start - row * spatial, stop = Math.Min(end - row * spatial, spatial);
                for (; i < stop; i += Chunk)
                {
                    int len = Math.Min(Chunk, stop - i);
                    Span<float> s = t[..len], w = u[..len];
                    s.Clear();
                    for (int k = Math.Max(0, c - before); k <= Math.Min(channels - 1, c + after); k++)
                    {
                        var xk = src.Slice(plane0 + k * spatial + i, len);
                        TensorPrimitives.MultiplyAdd(xk, xk, s, s);
                    }
                    TensorPrimitives.Multiply(s, scale, s);
                    TensorPrimitives.Add(s, bias, s); // t = bias + alpha/size · Σx²
                    var xc = src.Slice(plane0 + c * spatial + i, len);
                    var yc = dst.Slice(plane0 + c * spatial + i, len);
                    Power(s, w, xc, yc);
                }
                start = row * spatial + stop;
            }
        }

        /// <summary>y = x / t^beta (t is overwritten; w is scratch).</summary>
        private void Power(Span<float> t, Span<float> w, ReadOnlySpan<float> x, Span<float> y)
        {
            switch (beta)
            {
                case 0.75f:
                    TensorPrimitives.Sqrt(t, t);
                    TensorPrimitives.Sqrt(t, w);
                    TensorPrimitives.Multiply(t, w, t); // t^(1/2) · t^(1/4)
                    TensorPrimitives.Divide(x, t, y);
                    break;
                case 0.5f:
                    TensorPrimitives.Sqrt(t, t);
                    TensorPrimitives.Divide(x, t, y);
                    break;
                case 1f:
                    TensorPrimitives.Divide(x, t, y);
                    break;
                default:
                    TensorPrimitives.Log(t, t);
                    TensorPrimitives.Multiply(t, -beta, t);
                    TensorPrimitives.Exp(t, t);
                    TensorPrimitives.Multiply(x, t, y);
                    break;
            }
        }
    }
}
