namespace Loom.Kernels.Common;

/// <summary>Axis arguments of reductions and normalizations: reading, validating, and splitting shapes around an axis.</summary>
internal static class ReduceAxes
{
    /// <summary>The elements of an int64 or int32 tensor: axes, k, an axis, class labels.</summary>
    public static long[] Read(Tensor t, Func<string, Exception> fail, string what = "axes") => t.DataType switch
    {
        DataType.Int64 => t.ToArray<long>(),
        DataType.Int32 => t.AsSpan<int>().ToArray().Select(v => (long)v).ToArray(),
        _ => throw fail($"{what} must be int64 or int32, not {t.DataType.Name()}"),
    };

    /// <summary>Normalizes possibly negative axes against <paramref name="rank"/>; sorted, rejecting duplicates and out-of-range values.</summary>
    public static int[] Normalize(ReadOnlySpan<long> axes, int rank, Func<string, Exception> fail)
    {
        var result = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            long a = axes[i];
            if (a < -rank || a >= rank) throw fail($"axis {a} is out of range for rank {rank}");
            result[i] = (int)(a < 0 ? a + rank : a);
        }
        Array.Sort(result);
        for (int i = 1; i < result.Length; i++)
            if (result[i] == result[i - 1]) throw fail($"axis {result[i]} is listed twice");
        return result;
    }

    /// <summary>Normalizes a single axis attribute against <paramref name="rank"/>.</summary>
    public static int Single(long axis, int rank, Func<string, Exception> fail)
    {
        if (axis < -rank || axis >= rank) throw fail($"axis {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>All axes <c>0..rank-1</c>.</summary>
    public static int[] All(int rank) => Enumerable.Range(0, rank).ToArray();

    /// <summary>
    /// Views <paramref name="shape"/> as <c>[outer, n, inner]</c> around <paramref name="axis"/>, so a
    /// single-axis op walks <c>x[o*n*inner + k*inner + i]</c> with no per-element index arithmetic.
    /// </summary>
    public static (int Outer, int N, int Inner) Split(ReadOnlySpan<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        return (outer, shape[axis], inner);
    }

    /// <summary>Views <paramref name="shape"/> as <c>[outer, inner]</c>: dims before <paramref name="axis"/> and from it on.</summary>
    public static (int Outer, int Inner) SplitBefore(ReadOnlySpan<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis; d < shape.Length; d++) inner *= shape[d];
        return (outer, inner);
    }
}
