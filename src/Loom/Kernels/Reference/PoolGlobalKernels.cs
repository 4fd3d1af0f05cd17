using System.Numerics;
using System.Numerics.Tensors;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>GlobalAveragePool, GlobalMaxPool and GlobalLpPool: one value per batch item and channel.</summary>
[KernelRegistrations]
internal static class PoolGlobalKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("GlobalAveragePool", _ => ConvKernels.Guard(ConvKernels.FloatTypes, new GlobalPoolKernel(PoolKind.Average, 0)), 1);
        r.Add("GlobalMaxPool", _ => ConvKernels.Guard(ConvKernels.FloatTypes, new GlobalPoolKernel(PoolKind.Max, 0)), 1);
        r.Add("GlobalLpPool", info => ConvKernels.Guard(ConvKernels.FloatTypes, new GlobalPoolKernel(PoolKind.Lp, info.GetFloat("p", 2))), 1);
    }
}

internal sealed class GlobalPoolKernel(PoolKind kind, double p) : Kernel
{
    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        if (x.Rank < 2) throw ctx.Fail($"input has shape {ShapeMath.Format(x.Shape)}; it needs [N, C, spatial...]");
        Span<int> shape = stackalloc int[x.Rank];
        x.Shape.CopyTo(shape);
        shape[2..].Fill(1);
        var y = ctx.AllocateOutput(0, x.DataType, shape, clear: false);
        if (y.Length == 0) return;
        int size = (int)ShapeMath.Size(x.Shape[2..]);
        switch (x.DataType)
        {
            case DataType.Float when kind == PoolKind.Average:
                // One vectorized sum per plane (TensorPrimitives costs more per call than a 7×7 plane takes).
                unsafe
                {
                    fixed (float* px = x.AsSpan<float>(), py = y.AsSpan<float>()) Kernels.Common.PoolFloat.WholePlanes(false, px, py, y.Length, size);
                }
                break;
            case DataType.Float: Pool(x.AsSpan<float>(), y.AsSpan<float>(), size); break;
            case DataType.Double: Pool(x.AsSpan<double>(), y.AsSpan<double>(), size); break;
            default:
                var yf = new float[y.Length];
                Pool(Kernels.Common.GemmFloatData.ToFloat(x), yf, size);
                Kernels.Common.GemmFloatData.FromFloat(yf, y);
                break;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Pool<T>(ReadOnlySpan<T> x, Span<T> y, int size) where T : IFloatingPointIeee754<T>
    {
        T pp = T.CreateTruncating(p);
        for (int i = 0; i < y.Length; i++)
        {
            var plane = x.Slice(i * size, size);
            y[i] = kind switch
            {
                PoolKind.Average => TensorPrimitives.Sum(plane) / T.CreateTruncating(size),
                PoolKind.Max => size == 0 ? T.NegativeInfinity : TensorPrimitives.Max(plane),
                _ => p == 2 ? TensorPrimitives.Norm(plane) : LpNorm(plane, pp),
            };
        }
    }

    private static T LpNorm<T>(ReadOnlySpan<T> v, T p) where T : IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        foreach (var e in v) sum += T.Pow(T.Abs(e), p);
        return T.Pow(sum, T.One / p);
    }
}
