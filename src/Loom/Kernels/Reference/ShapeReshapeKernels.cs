using Loom.Inference.Rules;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>
/// Reshape, Flatten, Squeeze, Unsqueeze (all free views of the input's buffer), Shape and Size.
/// </summary>
[KernelRegistrations]
internal static class ShapeReshapeKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Reshape", info => new ReshapeKernel(
            info.Opset >= 14 && info.GetInt("allowzero", 0) != 0,
            info.Opset < 5 ? info.GetInts("shape")?.ToArray() ?? throw info.Fail("attribute 'shape' is missing") : null));
        r.Add("Flatten", info => new FlattenKernel(info.GetInt("axis", 1)));
        r.Add("Squeeze", info => new SqueezeKernel(info.Opset < 13 ? info.GetInts("axes")?.ToArray() : null));
        r.Add("Unsqueeze", info => new UnsqueezeKernel(info.Opset < 13 ? info.GetInts("axes")?.ToArray() ?? throw info.Fail("attribute 'axes' is missing") : null));
        r.Add("Shape", info => new ShapeKernel(info.Opset >= 15 ? info.GetInt("start", 0) : 0, info.Opset >= 15 ? info.GetInt("end", long.MaxValue) : long.MaxValue));
        r.Add("Size", _ => new SizeKernel());
    }

    private sealed class ReshapeKernel(bool allowZero, long[]? shapeAttribute) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var target = shapeAttribute ?? ShapeIntegers.Read(ctx.Input(1));
            ctx.SetOutput(0, x.Reshape(ResolveShape(ctx, x.Shape, target, allowZero)));
        }
    }

    /// <summary>Reshape's target with 0 (copy the input dim, unless allowzero) and -1 (the rest) resolved.</summary>
    public static int[] ResolveShape(KernelContext ctx, ReadOnlySpan<int> input, ReadOnlySpan<long> target, bool allowZero)
    {
        var dims = new int[target.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            long d = target[i];
            if (d == -1)
            {
                if (inferred >= 0) throw ctx.Fail($"shape [{string.Join(",", target.ToArray())}] has more than one -1");
                inferred = i;
                continue;
            }
            if (d == 0 && !allowZero)
            {
                if (i >= input.Length) throw ctx.Fail($"shape [{string.Join(",", target.ToArray())}] copies dim {i} but the input {ShapeMath.Format(input)} has rank {input.Length}");
                d = input[i];
            }
            if (d < 0 || d > int.MaxValue) throw ctx.Fail($"shape [{string.Join(",", target.ToArray())}] has the invalid dim {target[i]}");
            dims[i] = (int)d;
            known *= d;
            if (known > int.MaxValue) known = (long)int.MaxValue + 1;
        }
        long total = ShapeMath.Size(input);
        if (inferred >= 0)
        {
            if (known == 0 || total % known != 0)
                throw ctx.Fail($"cannot reshape {ShapeMath.Format(input)} ({total} elements) to [{string.Join(",", target.ToArray())}]");
            dims[inferred] = (int)(total / known);
        }
        else if (known != total)
            throw ctx.Fail($"cannot reshape {ShapeMath.Format(input)} ({total} elements) to {ShapeMath.Format(dims)} ({known} elements)");
        return dims;
    }

    private sealed class FlattenKernel(long axis) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (axis < -x.Rank || axis > x.Rank) throw ctx.Fail($"axis {axis} is out of range for rank {x.Rank}");
            int a = (int)(axis < 0 ? axis + x.Rank : axis);
            int outer = 1;
            for (int i = 0; i < a; i++) outer *= x.Shape[i];
            int inner = outer == 0 ? (int)ShapeMath.Size(x.Shape[a..]) : x.Length / outer;
            ctx.SetOutput(0, x.Reshape([outer, inner]));
        }
    }

    private sealed class SqueezeKernel(long[]? axesAttribute) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var axes = axesAttribute ?? (ctx.OptionalInput(1) is { } t ? ShapeIntegers.Read(t).ToArray() : null);
            var drop = new bool[x.Rank];
            if (axes is null || axes.Length == 0)
                for (int k = 0; k < x.Rank; k++) drop[k] = x.Shape[k] == 1;
            else
                foreach (var a in axes)
                {
                    int k = ShapeAxes.Axis(ctx, a, x.Rank);
                    if (x.Shape[k] != 1) throw ctx.Fail($"cannot squeeze axis {a} of {ShapeMath.Format(x.Shape)}: its size is not 1");
                    drop[k] = true;
                }
            var dims = new List<int>(x.Rank);
            for (int k = 0; k < x.Rank; k++) if (!drop[k]) dims.Add(x.Shape[k]);
            ctx.SetOutput(0, x.Reshape(dims.ToArray()));
        }
    }

    private sealed class UnsqueezeKernel(long[]? axesAttribute) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var axes = axesAttribute ?? ShapeIntegers.Read(ctx.Input(1)).ToArray();
            int rank = x.Rank + axes.Length;
            var one = new bool[rank];
            foreach (var a in axes)
            {
                int k = ShapeAxes.Axis(ctx, a, rank);
                if (one[k]) throw ctx.Fail($"axes [{string.Join(",", axes)}] name axis {k} twice");
                one[k] = true;
            }
            var dims = new int[rank];
            for (int k = 0, j = 0; k < rank; k++) dims[k] = one[k] ? 1 : x.Shape[j++];
            ctx.SetOutput(0, x.Reshape(dims));
        }
    }

    private sealed class ShapeKernel(long start, long end) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var (s, e) = ShapeReshapeRules.ShapeSliceBounds(x.Rank, start, end);
            var dims = new long[e - s];
            for (int i = 0; i < dims.Length; i++) dims[i] = x.Shape[s + i];
            ctx.SetOutput(0, Tensor.FromArray(dims, dims.Length));
        }
    }

    private sealed class SizeKernel : Kernel
    {
        public override void Run(KernelContext ctx) => ctx.SetOutput(0, Tensor.Scalar((long)ctx.Input(0).Length));
    }
}
