using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>
/// TopK: the k largest (or, with largest=0, smallest) elements along an axis and their int64 indices.
/// <c>k</c> is an attribute at opset 1 and an input from 10; <c>largest</c>/<c>sorted</c> exist from 11.
/// Equal values keep index order (lower index first); the result is always sorted, which also
/// satisfies sorted=0 (order unspecified). NaN counts as the most extreme value.
/// </summary>
[KernelRegistrations]
internal static class TopKKernels
{
    public static void Register(KernelRegistry r) => r.Add("TopK", info =>
    {
        var dt = info.InputDataType(0);
        if (dt != DataType.Undefined && !ReduceTypeSwitch.IsNumeric(dt))
            throw info.Unsupported($"TopK does not support {dt.Name()} input");
        long? k = info.Opset < 10 ? info.GetInt("k", -1) : null;
        return new TopKKernel(k, info.GetInt("axis", -1), info.GetInt("largest", 1) != 0);
    });

    /// <summary><paramref name="attributeK"/> is null when k comes from input 1.</summary>
    private sealed class TopKKernel(long? attributeK, long axis, bool largest) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            long k = attributeK ?? SingleK(ctx);
            int a = ReduceAxes.Single(axis, x.Rank, ctx.Fail);
            var (outer, n, inner) = ReduceAxes.Split(x.Shape, a);
            if (k < 0 || k > n) throw ctx.Fail($"k = {k} is out of range for axis {a} of size {n}");
            var outShape = x.Shape.ToArray();
            outShape[a] = (int)k;
            var values = ctx.AllocateOutput(0, x.DataType, outShape);
            var indices = ctx.AllocateOutput(1, DataType.Int64, outShape);
            var work = new Work(x, values, indices, outer, n, inner, (int)k, largest);
            if (!ReduceTypeSwitch.Numeric(x.DataType, ref work))
                throw ctx.Fail($"TopK does not support {x.DataType.Name()} input");
        }

        private static long SingleK(KernelContext ctx)
        {
            var k = ReduceAxes.Read(ctx.Input(1), ctx.Fail);
            return k.Length == 1 ? k[0] : throw ctx.Fail($"k must hold one value, not {k.Length}");
        }
    }

    private readonly struct Work(Tensor x, Tensor values, Tensor indices, int outer, int n, int inner, int k, bool largest) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var src = x.AsSpan<T>();
            var outValues = values.AsSpan<T>();
            var outIndices = indices.AsSpan<long>();
            var column = new T[n];
            var order = new int[n];
            bool max = largest;
            // Strictly better value first; ties (and NaN pairs) by index, which makes the order total.
            Comparison<int> compare = (a, b) =>
                Beats(column[a], column[b], max, onTie: false) ? -1
                : Beats(column[b], column[a], max, onTie: false) ? 1
                : a.CompareTo(b);
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int baseIn = o * n * inner + i, baseOut = o * k * inner + i;
                    for (int j = 0; j < n; j++) column[j] = src[baseIn + j * inner];
                    SelectSorted(order, n, k, compare);
                    for (int j = 0; j < k; j++)
                    {
                        outValues[baseOut + j * inner] = column[order[j]];
                        outIndices[baseOut + j * inner] = order[j];
                    }
                }
        }

        /// <summary>
        /// Puts the k first elements of the order into <paramref name="order"/>[0..k): a full sort when k is a
        /// large part of n, else a heap of the k best so far (n log k), sorted at the end.
        /// </summary>
        private static void SelectSorted(int[] order, int n, int k, Comparison<int> compare)
        {
            if (k == 0) return;
            if (k * 8 >= n)
            {
                for (int j = 0; j < n; j++) order[j] = j;
                order.AsSpan(0, n).Sort(compare);
                return;
            }
            // Max-heap on "comes later", so the root is the worst of the k kept.
            var heap = new PriorityQueue<int, int>(k + 1, Comparer<int>.Create((a, b) => compare(b, a)));
            for (int j = 0; j < n; j++)
            {
                if (heap.Count < k) heap.Enqueue(j, j);
                else if (compare(j, heap.Peek()) < 0) heap.EnqueueDequeue(j, j);
            }
            for (int j = 0; j < k; j++) order[j] = heap.Dequeue();
            order.AsSpan(0, k).Sort(compare);
        }
    }
}
