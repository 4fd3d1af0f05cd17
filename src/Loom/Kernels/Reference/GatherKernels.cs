using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Gather, GatherElements, GatherND and Compress: copies selected by indices or a mask, in whole runs.</summary>
[KernelRegistrations]
internal static class GatherKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Gather", info => new GatherKernel(info.GetInt("axis", 0)));
        r.Add("GatherElements", info => new GatherElementsKernel(info.GetInt("axis", 0)));
        r.Add("GatherND", info =>
        {
            long b = info.Opset >= 12 ? info.GetInt("batch_dims", 0) : 0;
            if (b < 0) throw info.Fail($"batch_dims {b} must not be negative");
            return new GatherNDKernel((int)b);
        });
        r.Add("Compress", info => new CompressKernel(info.Node.HasAttribute("axis") ? info.GetInt("axis", 0) : null));
    }

    private sealed class GatherKernel(long axis) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var indexTensor = ctx.Input(1);
            int a = ShapeAxes.Axis(ctx, axis, x.Rank);
            int dim = x.Shape[a];
            var indices = ShapeIntegers.Read(indexTensor);
            var outShape = new int[x.Rank - 1 + indexTensor.Rank];
            x.Shape[..a].CopyTo(outShape);
            indexTensor.Shape.CopyTo(outShape.AsSpan(a));
            x.Shape[(a + 1)..].CopyTo(outShape.AsSpan(a + indexTensor.Rank));

            var (outer, inner) = ShapeAxes.AroundAxis(x.Shape, a);
            var rows = new int[indices.Length];
            for (int j = 0; j < rows.Length; j++) rows[j] = ShapeIntegers.Normalize(indices[j], dim, ctx, "index");
            if (outer == 1 && rows.Length == 1) { ctx.SetOutput(0, ShapeStorage.Window(x, rows[0] * inner, outShape)); return; }

            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            var src = ShapeStorage.Elements<T>(x);
            var dst = ShapeStorage.Elements<T>(y);
            int n = rows.Length;
            for (int o = 0, d = 0; o < outer; o++)
            {
                int rowBase = o * dim;
                if (inner == 1)
                    for (int j = 0; j < n; j++) dst[d++] = src[rowBase + rows[j]];
                else
                    for (int j = 0; j < n; j++, d += inner) src.Slice((rowBase + rows[j]) * inner, inner).CopyTo(dst.Slice(d, inner));
            }
        }
    }

    private sealed class GatherElementsKernel(long axis) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var indexTensor = ctx.Input(1);
            int a = ShapeAxes.Axis(ctx, axis, x.Rank);
            var offsets = GatherScatterOffsets.Elements(ctx, x.Shape, indexTensor.Shape, ShapeIntegers.Read(indexTensor), a);
            var y = ctx.AllocateOutput(0, x.DataType, indexTensor.Shape);
            var src = ShapeStorage.Elements<T>(x);
            var dst = ShapeStorage.Elements<T>(y);
            for (int i = 0; i < offsets.Length; i++) dst[i] = src[offsets[i]];
        }
    }

    private sealed class GatherNDKernel(int batchDims) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var indexTensor = ctx.Input(1);
            var (offsets, slice) = GatherScatterOffsets.Slices(ctx, x.Shape, indexTensor.Shape, ShapeIntegers.Read(indexTensor), batchDims);
            int k = indexTensor.Shape[^1];
            var outShape = indexTensor.Shape[..^1].ToArray().Concat(x.Shape[(batchDims + k)..].ToArray()).ToArray();
            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            var src = ShapeStorage.Elements<T>(x);
            var dst = ShapeStorage.Elements<T>(y);
            for (int t = 0; t < offsets.Length; t++) src.Slice(offsets[t], slice).CopyTo(dst.Slice(t * slice, slice));
        }
    }

    /// <summary>Keeps the slices along an axis (or the flattened elements) whose condition is true.</summary>
    private sealed class CompressKernel(long? axis) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var condition = ctx.Input(1);
            if (condition.DataType != DataType.Bool || condition.Rank != 1) throw ctx.Fail($"condition must be a 1-D bool tensor, got {condition}");
            var keep = condition.AsSpan<bool>();
            int a = axis is { } ax ? ShapeAxes.Axis(ctx, ax, x.Rank) : -1;
            int dim = a >= 0 ? x.Shape[a] : x.Length;
            if (keep.Length > dim) throw ctx.Fail($"condition has {keep.Length} elements, more than the {dim} it selects from");
            var (outer, inner) = a >= 0 ? ShapeAxes.AroundAxis(x.Shape, a) : (1, 1);
            int kept = 0;
            foreach (var c in keep) if (c) kept++;
            int[] outShape = a >= 0 ? x.Shape.ToArray() : [kept];
            if (a >= 0) outShape[a] = kept;
            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            var src = ShapeStorage.Elements<T>(x);
            var dst = ShapeStorage.Elements<T>(y);
            int d = 0;
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < keep.Length; j++)
                    if (keep[j])
                    {
                        src.Slice((o * dim + j) * inner, inner).CopyTo(dst.Slice(d, inner));
                        d += inner;
                    }
        }
    }
}
