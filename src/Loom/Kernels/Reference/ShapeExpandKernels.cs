using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Expand (one strided copy whose source strides are 0 along broadcast axes) and Tile.</summary>
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

    /// <summary>
    /// Tile: the input is copied once into the output's first block, then, from the innermost axis
    /// out, each filled block is duplicated along its axis with bulk copies — every output element is
    /// written once, in runs as long as the tiled block.
    /// </summary>
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
            var outShape = new int[rank];
            for (int d = 0; d < rank; d++)
            {
                if (repeats[d] < 0 || repeats[d] * x.Shape[d] > int.MaxValue) throw ctx.Fail($"repeat {repeats[d]} on axis {d} is invalid");
                outShape[d] = (int)repeats[d] * x.Shape[d];
            }
            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            if (y.Length == 0) return;
            var dst = ShapeStorage.Elements<T>(y);
            var outStrides = ShapeMath.Strides(outShape);
            ShapeStridedCopy.Copy<T>(ShapeStorage.Elements<T>(x), 0, ShapeMath.Strides(x.Shape), dst, 0, outStrides, x.Shape);
            var index = new int[rank];
            for (int k = rank - 1; k >= 0; k--)
            {
                if (repeats[k] == 1) continue;
                // Axes after k are complete; axes before k still hold only the input's extent.
                int block = x.Shape[k] * outStrides[k];
                Array.Clear(index);
                int offset = 0;
                while (true)
                {
                    var filled = dst.Slice(offset, block);
                    for (int t = 1; t < repeats[k]; t++) filled.CopyTo(dst.Slice(offset + t * block, block));
                    int j = k - 1;
                    for (; j >= 0; j--)
                    {
                        offset += outStrides[j];
                        if (++index[j] < x.Shape[j]) break;
                        offset -= outStrides[j] * index[j];
                        index[j] = 0;
                    }
                    if (j < 0) break;
                }
            }
        }
    }
}
