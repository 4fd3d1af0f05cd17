using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Expand and Tile: both are one strided copy whose source strides are 0 along repeated axes.</summary>
[KernelRegistrations]
internal static class ShapeExpandKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Expand", _ => new ExpandKernel());
        r.Add("Tile", info => new TileKernel(info.Opset < 6));
    }

    private sealed class ExpandKernel : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var target = ShapeIntegers.Read(ctx.Input(1));
            int rank = Math.Max(x.Rank, target.Length);
            var outShape = new int[rank];
            var strides = new int[rank];
            var inStrides = ShapeMath.Strides(x.Shape);
            for (int d = 0; d < rank; d++)
            {
                int xd = d - (rank - x.Rank), td = d - (rank - target.Length);
                int a = xd >= 0 ? x.Shape[xd] : 1;
                long b = td >= 0 ? target[td] : 1;
                if (b < 0 || b > int.MaxValue || (a != b && a != 1 && b != 1))
                    throw ctx.Fail($"cannot expand {ShapeMath.Format(x.Shape)} to [{string.Join(",", target.ToArray())}]");
                outShape[d] = a == 1 ? (int)b : a;
                strides[d] = a == 1 ? 0 : inStrides[xd];
            }
            if (outShape.AsSpan().SequenceEqual(x.Shape)) { ctx.SetOutput(0, x); return; }
            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            ShapeStridedCopy.Copy<T>(ShapeStorage.Elements<T>(x), 0, strides, ShapeStorage.Elements<T>(y), 0, ShapeMath.Strides(outShape), outShape);
        }
    }

    /// <summary>Tile viewed as Expand: input [d0, d1, ...] read as [1, d0, 1, d1, ...] and written as [r0, d0, r1, d1, ...].</summary>
    private sealed class TileKernel(bool axisForm) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            int rank = x.Rank;
            var repeats = new long[rank];
            if (axisForm)
            {
                // Tile-1: a scalar count of tiles along one axis.
                Array.Fill(repeats, 1);
                int axis = ShapeAxes.Axis(ctx, ShapeIntegers.Scalar(ctx.Input(2), ctx, "axis"), rank);
                repeats[axis] = ShapeIntegers.Scalar(ctx.Input(1), ctx, "tiles");
            }
            else
            {
                var r = ShapeIntegers.Read(ctx.Input(1));
                if (r.Length != rank) throw ctx.Fail($"repeats has {r.Length} values for an input of rank {rank}");
                r.CopyTo(repeats);
            }
            var inStrides = ShapeMath.Strides(x.Shape);
            var outShape = new int[rank];
            var viewShape = new int[2 * rank];
            var viewStrides = new int[2 * rank];
            for (int d = 0; d < rank; d++)
            {
                if (repeats[d] < 0 || repeats[d] * x.Shape[d] > int.MaxValue) throw ctx.Fail($"repeat {repeats[d]} on axis {d} is invalid");
                outShape[d] = (int)repeats[d] * x.Shape[d];
                viewShape[2 * d] = (int)repeats[d];
                viewShape[2 * d + 1] = x.Shape[d];
                viewStrides[2 * d + 1] = inStrides[d];
            }
            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            ShapeStridedCopy.Copy<T>(ShapeStorage.Elements<T>(x), 0, viewStrides, ShapeStorage.Elements<T>(y), 0, ShapeMath.Strides(viewShape), viewShape);
        }
    }
}
