using Loom.Inference.Rules;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Slice, Split and Concat. Results that are one contiguous run of the input are views, not copies.</summary>
[KernelRegistrations]
internal static class ShapeSliceKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Slice", info => info.Opset < 10
            ? new SliceKernel(
                info.GetInts("starts")?.ToArray() ?? throw info.Fail("attribute 'starts' is missing"),
                info.GetInts("ends")?.ToArray() ?? throw info.Fail("attribute 'ends' is missing"),
                info.GetInts("axes")?.ToArray())
            : new SliceKernel(null, null, null));
        r.Add("Split", info =>
        {
            long numOutputs = info.Opset >= 18 ? info.GetInt("num_outputs", 0) : 0;
            if (numOutputs != 0 && numOutputs != info.Node.Outputs.Length)
                throw info.Fail($"num_outputs is {numOutputs} but the node has {info.Node.Outputs.Length} outputs");
            return new SplitKernel(info.GetInt("axis", 0), info.Opset < 13 ? info.GetInts("split")?.ToArray() : null, numOutputs);
        });
        r.Add("Concat", info =>
        {
            if (info.Opset >= 4 && info.Node.GetAttribute("axis") is null) throw info.Fail("attribute 'axis' is missing");
            return new ConcatKernel(info.GetInt("axis", 1));
        });
    }

    private sealed class SliceKernel(long[]? starts, long[]? ends, long[]? axes) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var st = starts ?? ShapeIntegers.Read(ctx.Input(1)).ToArray();
            var en = ends ?? ShapeIntegers.Read(ctx.Input(2)).ToArray();
            var ax = starts is not null ? axes : ctx.OptionalInput(3) is { } a ? ShapeIntegers.Read(a).ToArray() : null;
            var sp = starts is null && ctx.OptionalInput(4) is { } s ? ShapeIntegers.Read(s).ToArray() : null;
            if (en.Length != st.Length || (ax is not null && ax.Length != st.Length) || (sp is not null && sp.Length != st.Length))
                throw ctx.Fail($"starts, ends, axes and steps must have the same length ({st.Length}, {en.Length}, {ax?.Length}, {sp?.Length})");

            int rank = x.Rank;
            var outShape = x.Shape.ToArray();
            var inStrides = ShapeMath.Strides(x.Shape);
            var strides = (int[])inStrides.Clone();
            var sliced = new bool[rank];
            long offset = 0;
            for (int i = 0; i < st.Length; i++)
            {
                int axis = ShapeAxes.Axis(ctx, ax?[i] ?? i, rank);
                if (sliced[axis]) throw ctx.Fail($"axis {axis} is sliced twice");
                sliced[axis] = true;
                long step = sp?[i] ?? 1;
                if (step == 0) throw ctx.Fail("a step of 0 is not allowed");
                var (start, count) = ShapeSliceRules.Bounds(x.Shape[axis], st[i], en[i], step);
                outShape[axis] = (int)count;
                offset += start * inStrides[axis];
                strides[axis] = (int)(inStrides[axis] * step);
            }
            if (ShapeMath.Size(outShape) == 0) { ctx.AllocateOutput(0, x.DataType, outShape); return; }
            if (ShapeStridedCopy.IsContiguous(outShape, strides)) { ctx.SetOutput(0, ShapeStorage.Window(x, (int)offset, outShape)); return; }
            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            ShapeStridedCopy.Copy<T>(ShapeStorage.Elements<T>(x), (int)offset, strides, ShapeStorage.Elements<T>(y), 0, ShapeMath.Strides(outShape), outShape);
        }
    }

    private sealed class SplitKernel(long axis, long[]? splitAttribute, long numOutputs) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            int a = ShapeAxes.Axis(ctx, axis, x.Rank);
            int dim = x.Shape[a];
            var split = splitAttribute ?? (ctx.OptionalInput(1) is { } s ? ShapeIntegers.Read(s).ToArray() : null);
            var sizes = split ?? ShapeSliceRules.EqualSplit(dim, ctx.OutputCount, numOutputs > 0) ?? throw ctx.Fail($"dim {dim} cannot be split into {ctx.OutputCount} equal parts");
            if (sizes.Length != ctx.OutputCount) throw ctx.Fail($"split has {sizes.Length} parts but the node has {ctx.OutputCount} outputs");
            if (sizes.Any(v => v < 0) || sizes.Sum() != dim) throw ctx.Fail($"split [{string.Join(",", sizes)}] does not add up to the dim {dim} of axis {a}");

            var (outer, inner) = ShapeAxes.AroundAxis(x.Shape, a);
            var src = ShapeStorage.Elements<T>(x);
            int begin = 0;
            for (int o = 0; o < sizes.Length; o++)
            {
                int len = (int)sizes[o];
                var shape = x.Shape.ToArray();
                shape[a] = len;
                if (outer == 1 || len == dim) ctx.SetOutput(o, ShapeStorage.Window(x, begin * inner, shape));
                else
                {
                    var dst = ShapeStorage.Elements<T>(ctx.AllocateOutput(o, x.DataType, shape));
                    int block = len * inner;
                    for (int i = 0; i < outer; i++) src.Slice((i * dim + begin) * inner, block).CopyTo(dst.Slice(i * block, block));
                }
                begin += len;
            }
        }
    }

    private sealed class ConcatKernel(long axis) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var first = ctx.Input(0);
            int rank = first.Rank;
            if (rank == 0) throw ctx.Fail("cannot concatenate scalars");
            int a = ShapeAxes.Axis(ctx, axis, rank);
            var shape = first.Shape.ToArray();
            shape[a] = 0;
            for (int i = 0; i < ctx.InputCount; i++)
            {
                var t = ctx.Input(i);
                if (t.Rank != rank || t.DataType != first.DataType) throw ctx.Fail($"input {i} is {t}, which does not match input 0 ({first})");
                for (int k = 0; k < rank; k++)
                    if (k != a && t.Shape[k] != shape[k]) throw ctx.Fail($"input {i} has shape {ShapeMath.Format(t.Shape)}, which differs from input 0's {ShapeMath.Format(first.Shape)} outside axis {a}");
                shape[a] += t.Shape[a];
            }
            if (ctx.InputCount == 1) { ctx.SetOutput(0, first); return; }
            var y = ctx.AllocateOutput(0, first.DataType, shape, clear: false); // every element is written below
            var dst = ShapeStorage.Elements<T>(y);
            var (outer, inner) = ShapeAxes.AroundAxis(shape, a);
            int rowOut = shape[a] * inner, begin = 0;
            for (int n = 0; n < ctx.InputCount; n++)
            {
                var t = ctx.Input(n);
                int block = t.Shape[a] * inner;
                // An input the frame computed in place (Runtime.Memory.ConcatPlacement) is already where it belongs.
                bool inPlace = outer == 1 && ReferenceEquals(t.Buffer, y.Buffer) && t.Offset == y.Offset + begin;
                if (block > 0 && !inPlace)
                {
                    var src = ShapeStorage.Elements<T>(t);
                    for (int i = 0; i < outer; i++) src.Slice(i * block, block).CopyTo(dst.Slice(i * rowOut + begin, block));
                }
                begin += block;
            }
        }
    }
}
