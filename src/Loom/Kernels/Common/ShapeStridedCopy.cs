using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loom.Kernels.Common;

/// <summary>
/// Copies a strided view of one buffer into another: for every index i of <c>shape</c>,
/// <c>dst[dstOffset + Σ i_d·dstStrides_d] = src[srcOffset + Σ i_d·srcStrides_d]</c>. Transpose, Slice,
/// Expand, Tile, Pad and DepthToSpace are all this one loop. Size-1 dims are dropped and dims that
/// are contiguous in both buffers merged first, so a plain copy is one bulk <c>CopyTo</c> and a slice
/// copies whole rows; a source stride of 0 (broadcast) becomes <c>Fill</c>.
/// </summary>
internal static class ShapeStridedCopy
{
    public static void Copy<T>(ReadOnlySpan<T> src, int srcOffset, ReadOnlySpan<int> srcStrides,
        Span<T> dst, int dstOffset, ReadOnlySpan<int> dstStrides, ReadOnlySpan<int> shape)
    {
        int rank = shape.Length;
        Span<int> dims = rank <= 16 ? stackalloc int[rank] : new int[rank];
        Span<int> ss = rank <= 16 ? stackalloc int[rank] : new int[rank];
        Span<int> ds = rank <= 16 ? stackalloc int[rank] : new int[rank];
        int n = Simplify(shape, srcStrides, dstStrides, dims, ss, ds);
        if (n < 0) return; // empty
        if (n == 0) { dst[dstOffset] = src[srcOffset]; return; }
        if (n == 1) { CopyRow(src, srcOffset, ss[0], dst, dstOffset, ds[0], dims[0]); return; }

        // A transpose: the output's innermost dim is strided in the source while another dim is
        // contiguous there. Make that dim the row dim and copy in tiles, so both sides stay in cache.
        bool tiled = false;
        if (ds[n - 1] == 1 && ss[n - 1] != 1 && ss[n - 2] != 1)
            for (int k = n - 3; k >= 0; k--)
                if (ss[k] == 1)
                {
                    (dims[k], dims[n - 2]) = (dims[n - 2], dims[k]);
                    (ss[k], ss[n - 2]) = (ss[n - 2], ss[k]);
                    (ds[k], ds[n - 2]) = (ds[n - 2], ds[k]);
                    break;
                }
        if (ds[n - 1] == 1 && ss[n - 1] != 1 && ss[n - 2] == 1) tiled = true;

        // Odometer over the dims before the last two; the last two are plain nested loops.
        int rows = dims[n - 2], cols = dims[n - 1];
        int rs = ss[n - 2], rd = ds[n - 2], cs = ss[n - 1], cd = ds[n - 1];
        Span<int> index = n <= 18 ? stackalloc int[n - 2] : new int[n - 2];
        int so = srcOffset, dO = dstOffset;
        while (true)
        {
            int s = so, d = dO;
            if (tiled) CopyTiled(src, s, cs, dst, d, rd, rows, cols);
            else for (int r = 0; r < rows; r++, s += rs, d += rd) CopyRow(src, s, cs, dst, d, cd, cols);
            int k = n - 3;
            for (; k >= 0; k--)
            {
                so += ss[k]; dO += ds[k];
                if (++index[k] < dims[k]) break;
                so -= ss[k] * dims[k]; dO -= ds[k] * dims[k];
                index[k] = 0;
            }
            if (k < 0) return;
        }
    }

    /// <summary>dst[d + r·rowStride + c] = src[s + r + c·colStride] for r &lt; rows, c &lt; cols, in square tiles.</summary>
    private static void CopyTiled<T>(ReadOnlySpan<T> src, int s, int colStride, Span<T> dst, int d, int rowStride, int rows, int cols)
    {
        if (typeof(T) == typeof(uint) && ShapeTransposeBlocks.Supported)
        {
            // T is uint here (the JIT drops this branch for every other T); reinterpret without a copy.
            var s32 = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<T, uint>(ref MemoryMarshal.GetReference(src)), src.Length);
            var d32 = MemoryMarshal.CreateSpan(ref Unsafe.As<T, uint>(ref MemoryMarshal.GetReference(dst)), dst.Length);
            ShapeTransposeBlocks.Copy(s32, s, colStride, d32, d, rowStride, rows, cols);
            return;
        }
        const int Tile = 8;
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < cols; c0 += Tile)
            {
                int c1 = Math.Min(cols, c0 + Tile);
                // Bounds were checked for the whole tile; the inner loop indexes without checks.
                _ = src[s + (r1 - 1) + (c1 - 1) * colStride];
                _ = dst[d + (r1 - 1) * rowStride + (c1 - 1)];
                for (int r = r0; r < r1; r++)
                {
                    ref readonly T from = ref Unsafe.Add(ref MemoryMarshal.GetReference(src), s + r + c0 * colStride);
                    ref T to = ref Unsafe.Add(ref MemoryMarshal.GetReference(dst), d + r * rowStride + c0);
                    for (int c = 0; c < c1 - c0; c++) Unsafe.Add(ref to, c) = Unsafe.Add(ref Unsafe.AsRef(in from), c * colStride);
                }
            }
        }
    }

    private static void CopyRow<T>(ReadOnlySpan<T> src, int s, int sStride, Span<T> dst, int d, int dStride, int count)
    {
        if (sStride == 1 && dStride == 1) { src.Slice(s, count).CopyTo(dst.Slice(d, count)); return; }
        if (sStride == 0 && dStride == 1) { dst.Slice(d, count).Fill(src[s]); return; }
        for (int i = 0; i < count; i++, s += sStride, d += dStride) dst[d] = src[s];
    }

    /// <summary>Drops size-1 dims and merges neighbours contiguous in both buffers; returns the new rank, or -1 if empty.</summary>
    private static int Simplify(ReadOnlySpan<int> shape, ReadOnlySpan<int> srcStrides, ReadOnlySpan<int> dstStrides,
        Span<int> dims, Span<int> ss, Span<int> ds)
    {
        int n = 0;
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 0) return -1;
            if (shape[d] == 1) continue;
            if (n > 0 && ss[n - 1] == srcStrides[d] * shape[d] && ds[n - 1] == dstStrides[d] * shape[d])
            {
                dims[n - 1] *= shape[d];
                ss[n - 1] = srcStrides[d];
                ds[n - 1] = dstStrides[d];
                continue;
            }
            dims[n] = shape[d]; ss[n] = srcStrides[d]; ds[n] = dstStrides[d];
            n++;
        }
        return n;
    }

    /// <summary>True when the strided view is one contiguous run of the source (so it can be a window instead of a copy).</summary>
    public static bool IsContiguous(ReadOnlySpan<int> shape, ReadOnlySpan<int> srcStrides)
    {
        int rank = shape.Length;
        Span<int> dims = rank <= 16 ? stackalloc int[rank] : new int[rank];
        Span<int> ss = rank <= 16 ? stackalloc int[rank] : new int[rank];
        Span<int> ds = rank <= 16 ? stackalloc int[rank] : new int[rank];
        var dstStrides = ShapeMath.Strides(shape);
        int n = Simplify(shape, srcStrides, dstStrides, dims, ss, ds);
        return n <= 0 || (n == 1 && ss[0] == 1);
    }
}
