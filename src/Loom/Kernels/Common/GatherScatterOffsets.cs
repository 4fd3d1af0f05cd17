using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>
/// Where in <c>data</c> each index of GatherElements/ScatterElements (one element each) or
/// GatherND/ScatterND (one slice each) points. Computing the offsets once, with every index checked,
/// leaves the gather or scatter itself a plain linear loop — and a bad index a clear error.
/// </summary>
internal static class GatherScatterOffsets
{
    /// <summary>
    /// For each element of <paramref name="indices"/> (shape <paramref name="indexShape"/>): the flat
    /// offset in data of the element with the same coordinates, except along <paramref name="axis"/>,
    /// where the coordinate is the index.
    /// </summary>
    public static int[] Elements(KernelContext ctx, ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indexShape, ReadOnlySpan<long> indices, int axis)
    {
        int rank = dataShape.Length;
        if (indexShape.Length != rank) throw ctx.Fail($"indices {ShapeMath.Format(indexShape)} must have the rank of data {ShapeMath.Format(dataShape)}");
        for (int d = 0; d < rank; d++)
            if (d != axis && indexShape[d] > dataShape[d])
                throw ctx.Fail($"indices {ShapeMath.Format(indexShape)} exceed data {ShapeMath.Format(dataShape)} in dim {d}");
        var offsets = new int[indices.Length];
        if (offsets.Length == 0) return offsets;
        var strides = ShapeMath.Strides(dataShape);
        int axisDim = dataShape[axis], axisStride = strides[axis];
        Span<int> index = stackalloc int[rank];
        int baseOffset = 0; // data offset of the current coordinates with 0 along the axis
        for (int i = 0; ; )
        {
            long v = indices[i];
            offsets[i] = baseOffset + ShapeIntegers.Normalize(v, axisDim, ctx, $"index") * axisStride;
            if (++i == offsets.Length) return offsets;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (d != axis) baseOffset += strides[d];
                if (++index[d] < indexShape[d]) break;
                if (d != axis) baseOffset -= strides[d] * index[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>
    /// GatherND/ScatterND addressing: <paramref name="indices"/> has shape [..., k]; each k-tuple, after
    /// <paramref name="batchDims"/> leading dims shared with data, selects a slice of data of
    /// <c>SliceSize</c> elements. Returns the flat offset of each slice.
    /// </summary>
    public static (int[] Offsets, int SliceSize) Slices(KernelContext ctx, ReadOnlySpan<int> dataShape, ReadOnlySpan<int> indexShape, ReadOnlySpan<long> indices, int batchDims)
    {
        if (indexShape.Length < 1 || indexShape.Length <= batchDims || dataShape.Length <= batchDims)
            throw ctx.Fail($"indices {ShapeMath.Format(indexShape)} and data {ShapeMath.Format(dataShape)} need rank above batch_dims {batchDims}");
        int k = indexShape[^1];
        if (k > dataShape.Length - batchDims)
            throw ctx.Fail($"index tuples of length {k} are too long for data {ShapeMath.Format(dataShape)} with batch_dims {batchDims}");
        int batch = 1;
        for (int d = 0; d < batchDims; d++)
        {
            if (indexShape[d] != dataShape[d]) throw ctx.Fail($"batch dim {d} of indices {ShapeMath.Format(indexShape)} and data {ShapeMath.Format(dataShape)} differ");
            batch *= dataShape[d];
        }
        var strides = ShapeMath.Strides(dataShape);
        int slice = (int)ShapeMath.Size(dataShape[(batchDims + k)..]);
        int tuples = k == 0 ? (int)ShapeMath.Size(indexShape[..^1]) : indices.Length / k;
        int perBatch = batch == 0 ? 0 : tuples / batch;
        int batchStride = batchDims == 0 ? 0 : strides[batchDims - 1];
        var offsets = new int[tuples];
        for (int t = 0; t < tuples; t++)
        {
            int offset = perBatch == 0 ? 0 : t / perBatch * batchStride;
            for (int j = 0; j < k; j++)
                offset += ShapeIntegers.Normalize(indices[t * k + j], dataShape[batchDims + j], ctx, "index") * strides[batchDims + j];
            offsets[t] = offset;
        }
        return (offsets, slice);
    }
}
