using Loom.Runtime;
using static Loom.Kernels.Common.SequenceTensorCopy;

namespace Loom.Kernels.Reference;

/// <summary>SplitToSequence (a tensor cut along an axis into a sequence) and ConcatFromSequence (the reverse, optionally stacking along a new axis).</summary>
[KernelRegistrations]
internal static class SequenceSplitConcat
{
    public static void Register(KernelRegistry r)
    {
        r.Add("SplitToSequence", info => new SplitKernel(info.GetInt("axis", 0), info.GetInt("keepdims", 1) != 0), 11);
        r.Add("ConcatFromSequence", info => new ConcatKernel(info.GetInt("axis", 0), info.GetInt("new_axis", 0) != 0), 11);
    }

    private sealed class SplitKernel(long axisAttribute, bool keepDims) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank == 0) throw ctx.Fail("cannot split a scalar");
            int axis = ControlFlowKernels.Axis(ctx, axisAttribute, x.Rank);
            int n = x.Shape[axis];
            var pieces = new List<Tensor>();
            if (ctx.OptionalInput(1) is not { } split)
            {
                // No split: pieces of one; keepdims=0 drops the axis.
                for (int i = 0; i < n; i++) pieces.Add(Slice(x, axis, i, 1, keepAxis: keepDims));
            }
            else
            {
                foreach (var (start, length) in Lengths(ctx, split, n))
                    pieces.Add(Slice(x, axis, start, length));
            }
            ctx.SetOutput(0, new TensorSequence(x.DataType, pieces));
        }

        /// <summary>(start, length) of each piece: a scalar split gives equal pieces (the last may be shorter), a 1-D split lists them.</summary>
        private static IEnumerable<(int, int)> Lengths(KernelContext ctx, Tensor split, int n)
        {
            long[] values = split.DataType switch
            {
                DataType.Int64 => split.ToArray<long>(),
                DataType.Int32 => split.ToArray<int>().Select(v => (long)v).ToArray(),
                _ => throw ctx.Fail($"split must be int32 or int64, not {split.DataType.Name()}"),
            };
            if (split.Rank == 0)
            {
                long size = values[0];
                if (size <= 0) throw ctx.Fail($"split {size} must be positive");
                var result = new List<(int, int)>();
                for (long start = 0; start < n; start += size) result.Add(((int)start, (int)Math.Min(size, n - start)));
                return result;
            }
            if (split.Rank != 1) throw ctx.Fail($"split must be a scalar or 1-D, not {ShapeMath.Format(split.Shape)}");
            if (values.Any(v => v < 0) || values.Sum() != n)
                throw ctx.Fail($"split [{string.Join(",", values)}] must be non-negative and sum to the axis length {n}");
            var pieces = new (int, int)[values.Length];
            int at = 0;
            for (int i = 0; i < values.Length; i++) { pieces[i] = (at, (int)values[i]); at += (int)values[i]; }
            return pieces;
        }
    }

    private sealed class ConcatKernel(long axisAttribute, bool newAxis) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var s = SequenceKernels.InputSequence(ctx, 0);
            if (s.Count == 0) throw ctx.Fail("cannot concatenate an empty sequence");
            var first = s[0];
            int axis = ControlFlowKernels.Axis(ctx, axisAttribute, first.Rank + (newAxis ? 1 : 0));
            int total = 0;
            foreach (var t in s.Items)
            {
                bool fits = newAxis ? t.Shape.SequenceEqual(first.Shape) : SameExceptAxis(t.Shape, first.Shape, axis);
                if (!fits) throw ctx.Fail($"elements of shapes {ShapeMath.Format(first.Shape)} and {ShapeMath.Format(t.Shape)} cannot be concatenated along axis {axis}");
                total += newAxis ? 1 : t.Shape[axis];
            }
            int[] dims = newAxis ? [.. first.Shape[..axis], total, .. first.Shape[axis..]] : first.Shape.ToArray();
            dims[axis] = total;
            var result = ctx.AllocateOutput(0, s.ElementType, dims);
            int at = 0;
            foreach (var t in s.Items)
            {
                CopyInto(result, axis, at, t);
                at += newAxis ? 1 : t.Shape[axis];
            }
        }
    }
}
