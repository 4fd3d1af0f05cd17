using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Unique: distinct elements (or slices along an axis), sorted or in order of first occurrence, with indices, inverse indices and counts.</summary>
[KernelRegistrations]
internal static class ShapeUniqueKernels
{
    public static void Register(KernelRegistry r) =>
        r.Add("Unique", info => new UniqueKernel(info.Node.HasAttribute("axis") ? info.GetInt("axis", 0) : null, info.GetInt("sorted", 1) != 0));

    private sealed class UniqueKernel(long? axis, bool sorted) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            switch (x.DataType)
            {
                case DataType.Float: Run<float>(ctx, x); break;
                case DataType.Double: Run<double>(ctx, x); break;
                case DataType.Float16: Run<Half>(ctx, x); break;
                case DataType.BFloat16: Run<BFloat16>(ctx, x); break;
                case DataType.Int8: Run<sbyte>(ctx, x); break;
                case DataType.Int16: Run<short>(ctx, x); break;
                case DataType.Int32: Run<int>(ctx, x); break;
                case DataType.Int64: Run<long>(ctx, x); break;
                case DataType.UInt8: Run<byte>(ctx, x); break;
                case DataType.UInt16: Run<ushort>(ctx, x); break;
                case DataType.UInt32: Run<uint>(ctx, x); break;
                case DataType.UInt64: Run<ulong>(ctx, x); break;
                case DataType.Bool: Run<bool>(ctx, x); break;
                case DataType.String: Run<string>(ctx, x, StringComparer.Ordinal); break;
                default: throw ctx.Fail($"Unique does not support {x.DataType.Name()}");
            }
        }

        private void Run<T>(KernelContext ctx, Tensor x, IComparer<T>? comparer = null)
        {
            var cmp = comparer ?? Comparer<T>.Default;
            var data = x.ToArray<T>();
            // Items are the elements (no axis) or the slices along the axis, each compared lexicographically.
            int a = axis is { } ax ? ShapeAxes.Axis(ctx, ax, x.Rank) : -1;
            int count = a >= 0 ? x.Shape[a] : x.Length;
            var (outer, inner) = a >= 0 ? ShapeAxes.AroundAxis(x.Shape, a) : (1, 1);
            int Compare(int i, int j)
            {
                for (int o = 0; o < outer; o++)
                    for (int k = 0; k < inner; k++)
                    {
                        int c = cmp.Compare(data[(o * count + i) * inner + k], data[(o * count + j) * inner + k]);
                        if (c != 0) return c;
                    }
                return 0;
            }

            // Sort by value, ties by position, so each group starts at its first occurrence.
            var order = Enumerable.Range(0, count).ToArray();
            Array.Sort(order, (i, j) => Compare(i, j) is var c && c != 0 ? c : i.CompareTo(j));
            var groupOf = new int[count];
            var first = new List<int>();
            var counts = new List<long>();
            for (int k = 0; k < count; k++)
            {
                if (k == 0 || Compare(order[k - 1], order[k]) != 0) { first.Add(order[k]); counts.Add(0); }
                groupOf[order[k]] = first.Count - 1;
                counts[^1]++;
            }
            int u = first.Count;
            // Unsorted: groups in order of first occurrence.
            var rank = Enumerable.Range(0, u).ToArray();
            if (!sorted)
            {
                var byFirst = Enumerable.Range(0, u).OrderBy(g => first[g]).ToArray();
                for (int k = 0; k < u; k++) rank[byFirst[k]] = k;
            }
            var firstOut = new long[u];
            var countOut = new long[u];
            for (int g = 0; g < u; g++) { firstOut[rank[g]] = first[g]; countOut[rank[g]] = counts[g]; }
            var inverse = new long[count];
            for (int i = 0; i < count; i++) inverse[i] = rank[groupOf[i]];

            int[] yShape = a >= 0 ? x.Shape.ToArray() : [u];
            if (a >= 0) yShape[a] = u;
            var y = ctx.AllocateOutput(0, x.DataType, yShape).AsSpan<T>();
            for (int o = 0; o < outer; o++)
                for (int g = 0; g < u; g++)
                    data.AsSpan((o * count + (int)firstOut[g]) * inner, inner).CopyTo(y.Slice((o * u + g) * inner, inner));
            ctx.SetOutput(1, Tensor.FromArray(firstOut, u));
            ctx.SetOutput(2, Tensor.FromArray(inverse, count));
            ctx.SetOutput(3, Tensor.FromArray(countOut, u));
        }
    }
}
