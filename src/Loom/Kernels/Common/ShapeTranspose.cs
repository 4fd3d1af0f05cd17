namespace Loom.Kernels.Common;

/// <summary>Permuting the axes of a row-major buffer (Transpose, DepthToSpace, SpaceToDepth).</summary>
internal static class ShapeTranspose
{
    /// <summary>The shape after permuting: <c>result[k] = shape[perm[k]]</c>.</summary>
    public static int[] PermutedShape(ReadOnlySpan<int> shape, ReadOnlySpan<int> perm)
    {
        var r = new int[perm.Length];
        for (int k = 0; k < perm.Length; k++) r[k] = shape[perm[k]];
        return r;
    }

    /// <summary>The source strides as seen from the output's axes.</summary>
    public static int[] PermutedStrides(ReadOnlySpan<int> shape, ReadOnlySpan<int> perm)
    {
        var strides = ShapeMath.Strides(shape);
        var r = new int[perm.Length];
        for (int k = 0; k < perm.Length; k++) r[k] = strides[perm[k]];
        return r;
    }

    /// <summary>True when the permutation does not change the element order (it only moves size-1 axes).</summary>
    public static bool KeepsOrder(ReadOnlySpan<int> shape, ReadOnlySpan<int> perm) =>
        ShapeStridedCopy.IsContiguous(PermutedShape(shape, perm), PermutedStrides(shape, perm));

    /// <summary>Writes the permutation of <paramref name="src"/> (of shape <paramref name="shape"/>) into <paramref name="dst"/>.</summary>
    public static void Permute<T>(ReadOnlySpan<T> src, ReadOnlySpan<int> shape, ReadOnlySpan<int> perm, Span<T> dst)
    {
        var outShape = PermutedShape(shape, perm);
        ShapeStridedCopy.Copy(src, 0, PermutedStrides(shape, perm), dst, 0, ShapeMath.Strides(outShape), outShape);
    }
}
