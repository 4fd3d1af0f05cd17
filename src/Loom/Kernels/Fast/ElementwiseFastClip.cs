using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>Clip with scalar bounds (attributes before opset 11, optional inputs since) through the SIMD map.</summary>
internal sealed class FastClipKernel<T>(float? attrMin, float? attrMax, Kernel reference) : Kernel
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly DataType Type = DataTypes.Of<T>();

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        if (x.DataType != Type || !TryBound(ctx, 1, attrMin, T.NegativeInfinity, out var lo) || !TryBound(ctx, 2, attrMax, T.PositiveInfinity, out var hi))
        {
            reference.Run(ctx);
            return;
        }
        var y = ctx.AllocateOutput(0, Type, x.Shape, clear: false);
        ElementwiseParallel.For(ctx.Pool, x.Length, new MapJob<VectorOps.Clip<T>, T>(new(lo, hi), x, y));
    }

    /// <summary>The bound from input <paramref name="i"/>, the attribute, or the infinity that clips nothing; false when the input is not a scalar of T.</summary>
    private static bool TryBound(KernelContext ctx, int i, float? attribute, T none, out T bound)
    {
        bound = attribute is { } a ? T.CreateTruncating(a) : none;
        if (ctx.OptionalInput(i) is not { } t) return true;
        if (t.Length != 1 || t.DataType != Type) return false;
        bound = t.AsReadOnlySpan<T>()[0];
        return true;
    }
}
