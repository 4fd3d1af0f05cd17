namespace Loom.Kernels.Common;

/// <summary>
/// Moving slabs of tensors along one axis, for any dtype (element arrays are copied with
/// <see cref="Array.Copy(Array, int, Array, int, int)"/>): taking one index or a range of an axis
/// (Scan inputs, SplitToSequence), and writing parts into a larger tensor (Loop and Scan outputs,
/// ConcatFromSequence). A tensor is viewed as [outer, axis, inner].
/// </summary>
internal static class SequenceTensorCopy
{
    public static (int Outer, int Inner) OuterInner(ReadOnlySpan<int> dims, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= dims[i];
        for (int i = axis + 1; i < dims.Length; i++) inner *= dims[i];
        return (outer, inner);
    }

    /// <summary>
    /// Indices [<paramref name="start"/>, start+<paramref name="count"/>) of <paramref name="axis"/>; with
    /// <paramref name="keepAxis"/> false (count 1) the axis is dropped. A view when the range is contiguous.
    /// </summary>
    public static Tensor Slice(Tensor src, int axis, int start, int count, bool keepAxis = true)
    {
        var dims = src.Shape.ToArray();
        int axisLen = dims[axis];
        var (outer, inner) = OuterInner(dims, axis);
        int[] outDims = keepAxis ? dims : [.. dims[..axis], .. dims[(axis + 1)..]];
        if (keepAxis) outDims[axis] = count;
        if (outer == 1 || count == axisLen)
            return count == axisLen ? src.Reshape(outDims) : new Tensor(src.DataType, outDims, src.Buffer, src.Offset + start * inner);
        var dst = Tensor.Zeros(src.DataType, outDims);
        for (int o = 0; o < outer; o++)
            Array.Copy(src.Buffer, src.Offset + (o * axisLen + start) * inner, dst.Buffer, dst.Offset + o * count * inner, count * inner);
        return dst;
    }

    /// <summary>
    /// Writes <paramref name="part"/> at index <paramref name="at"/> of <paramref name="axis"/> of <paramref name="dst"/>;
    /// the part either has that axis (of any length) or lacks it (a single index, as when stacking).
    /// </summary>
    public static void CopyInto(Tensor dst, int axis, int at, Tensor part)
    {
        int dstAxis = dst.Shape[axis];
        var (outer, inner) = OuterInner(dst.Shape, axis);
        int partLen = part.Rank == dst.Rank ? part.Shape[axis] : 1;
        if (part.Length != outer * partLen * inner)
            throw new ShapeException($"a part of shape {ShapeMath.Format(part.Shape)} does not fit {ShapeMath.Format(dst.Shape)} along axis {axis}");
        for (int o = 0; o < outer; o++)
            Array.Copy(part.Buffer, part.Offset + o * partLen * inner, dst.Buffer, dst.Offset + (o * dstAxis + at) * inner, partLen * inner);
    }

    /// <summary>True when two tensors have equal dims except possibly along <paramref name="axis"/>.</summary>
    public static bool SameExceptAxis(ReadOnlySpan<int> a, ReadOnlySpan<int> b, int axis)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (i != axis && a[i] != b[i]) return false;
        return true;
    }
}
