using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Scatter (deprecated), ScatterElements and ScatterND, with reductions none/add/mul/max/min.</summary>
[KernelRegistrations]
internal static class ScatterKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Scatter", info => new ScatterElementsKernel(info.GetInt("axis", 0), ScatterReduction.None));
        r.Add("ScatterElements", info => new ScatterElementsKernel(info.GetInt("axis", 0), ScatterReductions.Parse(info)));
        r.Add("ScatterND", info => new ScatterNDKernel(ScatterReductions.Parse(info)));
    }

    private sealed class ScatterElementsKernel(long axis, ScatterReduction reduction) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var indexTensor = ctx.Input(1);
            var updates = ctx.Input(2);
            if (!updates.Shape.SequenceEqual(indexTensor.Shape))
                throw ctx.Fail($"updates {ShapeMath.Format(updates.Shape)} must have the shape of indices {ShapeMath.Format(indexTensor.Shape)}");
            int a = ShapeAxes.Axis(ctx, axis, x.Rank);
            var offsets = GatherScatterOffsets.Elements(ctx, x.Shape, indexTensor.Shape, ShapeIntegers.Read(indexTensor), a);
            var body = new Body(ctx, x, updates, offsets, 1);
            ScatterReductions.Dispatch(x.DataType, reduction, ref body);
        }
    }

    private sealed class ScatterNDKernel(ScatterReduction reduction) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var indexTensor = ctx.Input(1);
            var updates = ctx.Input(2);
            var (offsets, slice) = GatherScatterOffsets.Slices(ctx, x.Shape, indexTensor.Shape, ShapeIntegers.Read(indexTensor), 0);
            int k = indexTensor.Shape[^1];
            var expected = indexTensor.Shape[..^1].ToArray().Concat(x.Shape[k..].ToArray()).ToArray();
            if (!updates.Shape.SequenceEqual(expected))
                throw ctx.Fail($"updates {ShapeMath.Format(updates.Shape)} must have shape {ShapeMath.Format(expected)}");
            var body = new Body(ctx, x, updates, offsets, slice);
            ScatterReductions.Dispatch(x.DataType, reduction, ref body);
        }
    }

    /// <summary>Copies data to the output, then combines update run i (of <c>slice</c> elements) into the output at offsets[i], in index order.</summary>
    private readonly struct Body(KernelContext ctx, Tensor data, Tensor updates, int[] offsets, int slice) : ScatterReductions.IScatterBody
    {
        public void Run<T, TCombiner>(TCombiner combiner) where TCombiner : struct, IScatterCombiner<T>
        {
            if (updates.DataType != data.DataType) throw ctx.Fail($"updates are {updates.DataType.Name()} but data is {data.DataType.Name()}");
            var y = ctx.AllocateOutput(0, data.DataType, data.Shape);
            var dst = ShapeStorage.Elements<T>(y);
            ShapeStorage.Elements<T>(data).CopyTo(dst);
            ReadOnlySpan<T> src = ShapeStorage.Elements<T>(updates);
            bool replace = typeof(TCombiner) == typeof(ReplaceCombiner<T>);
            for (int i = 0; i < offsets.Length; i++)
            {
                var target = dst.Slice(offsets[i], slice);
                var update = src.Slice(i * slice, slice);
                if (replace) { update.CopyTo(target); continue; }
                for (int j = 0; j < slice; j++) target[j] = combiner.Combine(target[j], update[j]);
            }
        }
    }
}
