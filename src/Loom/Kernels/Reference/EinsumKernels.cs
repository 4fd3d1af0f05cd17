using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Einsum (opset 12): explicit and implicit output, ellipsis, repeated labels (diagonals), broadcasting.</summary>
[KernelRegistrations]
internal static class EinsumKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Einsum", info => ConvKernels.Guard(MatMulKernels.Types, new EinsumKernel(info.GetString("equation", ""))), 12);
    }
}

/// <summary>
/// Evaluates left to right: each operand first sums out the labels nothing else needs (and takes its
/// diagonals); each pair is then contracted as a batched matrix product [batch, free, summed] ×
/// [batch, summed, free]; the result is finally permuted (and reduced) into the output's label order.
/// </summary>
internal sealed class EinsumKernel(string equation) : Kernel
{
    private sealed record Operand<T>(T[] Data, int[] Labels);

    public override void Run(KernelContext ctx)
    {
        var inputs = Enumerable.Range(0, ctx.InputCount).Select(ctx.Input).ToArray();
        if (inputs.Length == 0) throw ctx.Fail("Einsum needs at least one input");
        var dtype = inputs[0].DataType;
        if (inputs.Any(t => t.DataType != dtype)) throw ctx.Fail("all inputs must have the same dtype");
        var eq = EinsumEquation.Parse(equation, inputs.Select(t => t.Rank).ToArray(), ctx.Fail);
        var sizes = new int[EinsumEquation.EllipsisBase + inputs.Max(t => t.Rank)];
        Array.Fill(sizes, -1);
        for (int i = 0; i < inputs.Length; i++)
            for (int a = 0; a < inputs[i].Rank; a++)
            {
                int l = eq.Operands[i][a], d = inputs[i].Shape[a];
                if (sizes[l] == -1 || sizes[l] == 1) sizes[l] = d;
                else if (d != 1 && d != sizes[l]) throw ctx.Fail($"label {LabelName(l)} has sizes {sizes[l]} and {d}");
            }
        var y = ctx.AllocateOutput(0, dtype, eq.Output.Select(l => sizes[l]).ToArray());
        switch (dtype)
        {
            case DataType.Float: Evaluate<float>(inputs.Select(t => t.ToArray<float>()).ToArray(), inputs, eq, sizes).CopyTo(y.AsSpan<float>()); break;
            case DataType.Double: Evaluate<double>(inputs.Select(t => t.ToArray<double>()).ToArray(), inputs, eq, sizes).CopyTo(y.AsSpan<double>()); break;
            case DataType.Int32: Evaluate<int>(inputs.Select(t => t.ToArray<int>()).ToArray(), inputs, eq, sizes).CopyTo(y.AsSpan<int>()); break;
            case DataType.Int64: Evaluate<long>(inputs.Select(t => t.ToArray<long>()).ToArray(), inputs, eq, sizes).CopyTo(y.AsSpan<long>()); break;
            case DataType.UInt32: Evaluate<uint>(inputs.Select(t => t.ToArray<uint>()).ToArray(), inputs, eq, sizes).CopyTo(y.AsSpan<uint>()); break;
            case DataType.UInt64: Evaluate<ulong>(inputs.Select(t => t.ToArray<ulong>()).ToArray(), inputs, eq, sizes).CopyTo(y.AsSpan<ulong>()); break;
            default: GemmFloatData.FromFloat(Evaluate<float>(inputs.Select(GemmFloatData.ToFloat).ToArray(), inputs, eq, sizes), y); break;
        }
    }

    private static string LabelName(int l) => l < 26 ? ((char)('A' + l)).ToString() : l < 52 ? ((char)('a' + l - 26)).ToString() : "...";

    private static T[] Evaluate<T>(T[][] data, Tensor[] inputs, EinsumEquation eq, int[] sizes) where T : struct, INumberBase<T>
    {
        int count = data.Length;
        // Reduce each operand to the labels still needed: by the output or by another operand.
        var ops = new List<Operand<T>>();
        for (int i = 0; i < count; i++)
        {
            var needed = eq.Output.Concat(eq.Operands.Where((_, j) => j != i).SelectMany(o => o)).ToHashSet();
            var keep = eq.Operands[i].Distinct().Where(needed.Contains).ToArray();
            ops.Add(new Operand<T>(Project(data[i], inputs[i].Shape.ToArray(), eq.Operands[i], keep, sizes), keep));
        }
        var acc = ops[0];
        for (int i = 1; i < count; i++)
        {
            var later = eq.Output.Concat(ops.Skip(i + 1).SelectMany(o => o.Labels)).ToHashSet();
            acc = Contract(acc, ops[i], later, sizes);
        }
        return Project(acc.Data, acc.Labels.Select(l => sizes[l]).ToArray(), acc.Labels, eq.Output, sizes);
    }

    /// <summary>X·Y summed over their shared labels that are not kept; the result's labels are batch, X-only, Y-only.</summary>
    private static Operand<T> Contract<T>(Operand<T> x, Operand<T> y, HashSet<int> keep, int[] sizes) where T : struct, INumberBase<T>
    {
        var shared = x.Labels.Intersect(y.Labels).ToArray();
        var batch = shared.Where(keep.Contains).ToArray();
        var summed = shared.Where(l => !keep.Contains(l)).ToArray();
        var xFree = x.Labels.Except(shared).ToArray();
        var yFree = y.Labels.Except(shared).ToArray();
        int Size(int[] labels) => labels.Aggregate(1, (p, l) => p * sizes[l]);
        int b = Size(batch), m = Size(xFree), k = Size(summed), n = Size(yFree);
        var xp = Project(x.Data, x.Labels.Select(l => sizes[l]).ToArray(), x.Labels, [.. batch, .. xFree, .. summed], sizes);
        var yp = Project(y.Data, y.Labels.Select(l => sizes[l]).ToArray(), y.Labels, [.. batch, .. summed, .. yFree], sizes);
        var r = new T[b * m * n];
        for (int i = 0; i < b; i++)
            MatMul<T>(m, n, k, xp.AsSpan(i * m * k, m * k), yp.AsSpan(i * k * n, k * n), r.AsSpan(i * m * n, m * n));
        return new Operand<T>(r, [.. batch, .. xFree, .. yFree]);
    }

    private static unsafe void MatMul<T>(int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c) where T : struct, INumberBase<T>
    {
        if (typeof(T) == typeof(float))
        {
            fixed (float* pa = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(a),
                   pb = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(b),
                   pc = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(c))
                GemmCore.Multiply(m, n, k, 1, pa, k, false, pb, n, false, pc, n, false);
            return;
        }
        GemmNaive.Multiply(m, n, k, a, k, false, b, n, false, c, n);
    }

    /// <summary>
    /// Rearranges a tensor labelled <paramref name="labels"/> (repeats allowed: diagonals) into one laid
    /// out as <paramref name="target"/> (unique labels), summing every label not in the target and
    /// broadcasting size-1 axes to the label's full size.
    /// </summary>
    private static T[] Project<T>(T[] src, int[] dims, int[] labels, int[] target, int[] sizes) where T : struct, INumberBase<T>
    {
        var all = labels.Distinct().Union(target).ToArray();
        int rank = all.Length;
        var extent = new int[rank];
        var srcStride = new int[rank];
        var dstStride = new int[rank];
        var srcStrides = ShapeMath.Strides(dims);
        int dstSize = target.Aggregate(1, (p, l) => p * sizes[l]);
        for (int i = 0; i < rank; i++)
        {
            int l = all[i];
            extent[i] = sizes[l];
            for (int a = 0; a < labels.Length; a++)
                if (labels[a] == l && dims[a] != 1) srcStride[i] += srcStrides[a];
            int t = Array.IndexOf(target, l), s = 1;
            for (int j = target.Length - 1; j > t && t >= 0; j--) s *= sizes[target[j]];
            dstStride[i] = t >= 0 ? s : 0;
        }
        var dst = new T[dstSize];
        if (extent.Any(e => e == 0)) return dst;
        var index = new int[rank];
        int so = 0, dof = 0;
        while (true)
        {
            dst[dof] += src[so];
            int d = rank - 1;
            for (; d >= 0; d--)
            {
                so += srcStride[d];
                dof += dstStride[d];
                if (++index[d] < extent[d]) break;
                so -= srcStride[d] * extent[d];
                dof -= dstStride[d] * extent[d];
                index[d] = 0;
            }
            if (d < 0) return dst;
        }
    }
}
