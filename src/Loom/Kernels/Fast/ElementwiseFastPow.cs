using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// Pow with a scalar float exponent of 2 (x·x) or 0.5 (a square root with pow's signs: pow(-0, 0.5) = +0,
/// pow(-∞, 0.5) = +∞); every other exponent goes to the reference kernel.
/// </summary>
internal sealed class FastPowKernel<T>(Kernel reference) : Kernel where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly DataType Type = DataTypes.Of<T>();

    public override void Run(KernelContext ctx)
    {
        Tensor x = ctx.Input(0), e = ctx.Input(1);
        double exponent = e.Length != 1 ? double.NaN : e.DataType switch
        {
            DataType.Float => e.AsReadOnlySpan<float>()[0],
            DataType.Double => e.AsReadOnlySpan<double>()[0],
            _ => double.NaN,
        };
        if (x.DataType != Type || e.Rank > x.Rank || exponent is not (2 or 0.5))
        {
            reference.Run(ctx);
            return;
        }
        var y = ctx.AllocateOutput(0, Type, x.Shape, clear: false);
        if (exponent == 2) ElementwiseParallel.For(ctx.Pool, x.Length, new MapJob<VectorOps.Square<T>, T>(default, x, y));
        else ElementwiseParallel.For(ctx.Pool, x.Length, new MapJob<VectorOps.PowHalf<T>, T>(default, x, y));
    }
}
