using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>
/// LRN (local response normalization across channels) and MeanVarianceNormalization
/// (<c>(x - mean) / (sqrt(variance) + 1e-9)</c> over the given axes, default [0, 2, 3]).
/// </summary>
[KernelRegistrations]
internal static class NormalizationLocalKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("LRN", info =>
        {
            long size = info.GetInt("size", 0);
            if (size <= 0) throw info.Fail("size must be a positive integer");
            return new LrnKernel(info.GetFloat("alpha", 1e-4f), info.GetFloat("beta", 0.75f), info.GetFloat("bias", 1f), (int)size);
        });
        r.Add("MeanVarianceNormalization", info =>
            new MvnKernel(info.GetInts("axes")?.ToArray() ?? [0, 2, 3]), sinceVersion: 9);
    }

    private static void Dispatch<TAction>(KernelContext ctx, DataType dt, ref TAction action) where TAction : struct, IReduceTypedAction
    {
        if (!ReduceTypeSwitch.Floating(dt, ref action))
            throw ctx.Fail($"{ctx.Node.OpType} does not support {dt.Name()} input");
    }

    private sealed class LrnKernel(float alpha, float beta, float bias, int size) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank < 2) throw ctx.Fail($"X must be [N, C, ...], not {ShapeMath.Format(x.Shape)}");
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            var work = new LrnWork(x, y, x.Shape[1], (int)ShapeMath.Size(x.Shape[2..]), alpha, beta, bias, size);
            Dispatch(ctx, x.DataType, ref work);
        }
    }

    /// <summary>Channel c sums squares over channels [c - floor((size-1)/2), c + ceil((size-1)/2)], clipped.</summary>
    private readonly struct LrnWork(Tensor x, Tensor y, int channels, int spatial, float alpha, float beta, float bias, int size) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<T>();
            int before = (size - 1) / 2, after = size - 1 - before;
            int batch = channels * spatial == 0 ? 0 : src.Length / (channels * spatial);
            var squares = new double[spatial];
            for (int n = 0; n < batch; n++)
            {
                var sample = src.Slice(n * channels * spatial, channels * spatial);
                var outSample = dst.Slice(n * channels * spatial, channels * spatial);
                for (int c = 0; c < channels; c++)
                {
                    Array.Clear(squares);
                    for (int k = Math.Max(0, c - before); k <= Math.Min(channels - 1, c + after); k++)
                    {
                        var plane = sample.Slice(k * spatial, spatial);
                        for (int i = 0; i < spatial; i++) { double v = ToDouble(plane[i]); squares[i] += v * v; }
                    }
                    var inPlane = sample.Slice(c * spatial, spatial);
                    var outPlane = outSample.Slice(c * spatial, spatial);
                    for (int i = 0; i < spatial; i++)
                        outPlane[i] = FromDouble<T>(ToDouble(inPlane[i]) / Math.Pow(bias + alpha / size * squares[i], beta));
                }
            }
        }
    }

    private sealed class MvnKernel(long[] axes) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var plan = ReducePlan.Create(x.Shape, ReduceAxes.Normalize(axes, x.Rank, ctx.Fail), keepDims: true);
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            var work = new MvnWork(x, y, plan);
            Dispatch(ctx, x.DataType, ref work);
        }
    }

    private readonly struct MvnWork(Tensor x, Tensor y, ReducePlan plan) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<T>();
            var (mean, variance) = ReduceAccumulate.Moments(src, plan);
            var std = variance.Select(v => Math.Sqrt(v) + 1e-9).ToArray();
            // Walk the plan again to send each element's statistics back to it.
            var rows = plan.GetRows();
            while (rows.MoveNext())
                for (int j = 0; j < plan.RowLength; j++)
                {
                    int o = plan.RowReduces ? rows.OutputOffset : rows.OutputOffset + j, i = rows.InputOffset + j;
                    dst[i] = FromDouble<T>((ToDouble(src[i]) - mean[o]) / std[o]);
                }
        }
    }
}
