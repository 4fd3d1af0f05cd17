using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>A unary op on float32 or float64 through the SIMD map, split over the worker pool when large.</summary>
internal sealed class FastUnaryKernel<TOp, T>(TOp op, Kernel reference, int parallelThreshold = ElementwiseParallel.CheapOpThreshold) : Kernel
    where TOp : struct, IVectorUnaryOp<T> where T : unmanaged
{
    private static readonly DataType Type = DataTypes.Of<T>();

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        if (x.DataType != Type) { reference.Run(ctx); return; }
        var y = ctx.AllocateOutput(0, Type, x.Shape, clear: false);
        ElementwiseParallel.For(ctx.Pool, x.Length, new MapJob<TOp, T>(op, x, y), parallelThreshold);
    }
}

internal readonly struct MapJob<TOp, T>(TOp op, Tensor x, Tensor y) : IRangeJob where TOp : struct, IVectorUnaryOp<T> where T : unmanaged
{
    public void Run(int start, int end) =>
        ElementwiseVectorLoops.Map(op, x.AsReadOnlySpan<T>()[start..end], y.AsSpan<T>()[start..end]);
}
