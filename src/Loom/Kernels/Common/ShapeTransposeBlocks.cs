using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// The 4-byte case of a tiled transpose (float32, int32: the common one) with AVX: whole 8×8 blocks
/// are loaded as 8 vectors, transposed in registers and stored as 8 vectors; the ragged edges are
/// copied one element at a time.
/// </summary>
internal static class ShapeTransposeBlocks
{
    public static bool Supported => Avx.IsSupported;

    /// <summary>dst[d + r·rowStride + c] = src[s + r + c·colStride] for r &lt; rows, c &lt; cols.</summary>
    public static void Copy(ReadOnlySpan<uint> src, int s, int colStride, Span<uint> dst, int d, int rowStride, int rows, int cols)
    {
        if (rows == 0 || cols == 0) return;
        // One bounds check for the whole region (both spans are indexed without checks below).
        _ = src[s + (rows - 1) + (cols - 1) * colStride];
        _ = dst[d + (rows - 1) * rowStride + (cols - 1)];
        ref uint sp = ref MemoryMarshal.GetReference(src);
        ref uint dp = ref MemoryMarshal.GetReference(dst);
        int rows8 = rows & ~7, cols8 = cols & ~7;
        for (int r0 = 0; r0 < rows8; r0 += 8)
            for (int c0 = 0; c0 < cols8; c0 += 8)
                Block8x8(ref Unsafe.Add(ref sp, s + r0 + c0 * colStride), colStride, ref Unsafe.Add(ref dp, d + r0 * rowStride + c0), rowStride);
        for (int r = 0; r < rows; r++)
        {
            int c = r < rows8 ? cols8 : 0;
            for (; c < cols; c++) Unsafe.Add(ref dp, d + r * rowStride + c) = Unsafe.Add(ref sp, s + r + c * colStride);
        }
    }

    /// <summary>Output row r of the block is element r of each of the 8 source vectors.</summary>
    private static void Block8x8(ref uint src, int srcStride, ref uint dst, int dstStride)
    {
        var v0 = Vector256.LoadUnsafe(ref src).AsSingle();
        var v1 = Vector256.LoadUnsafe(ref src, (nuint)srcStride).AsSingle();
        var v2 = Vector256.LoadUnsafe(ref src, (nuint)(2 * srcStride)).AsSingle();
        var v3 = Vector256.LoadUnsafe(ref src, (nuint)(3 * srcStride)).AsSingle();
        var v4 = Vector256.LoadUnsafe(ref src, (nuint)(4 * srcStride)).AsSingle();
        var v5 = Vector256.LoadUnsafe(ref src, (nuint)(5 * srcStride)).AsSingle();
        var v6 = Vector256.LoadUnsafe(ref src, (nuint)(6 * srcStride)).AsSingle();
        var v7 = Vector256.LoadUnsafe(ref src, (nuint)(7 * srcStride)).AsSingle();
        // Shuffles move bits only, so viewing the integers as floats is exact (NaN payloads included).
        var t0 = Avx.UnpackLow(v0, v1); var t1 = Avx.UnpackHigh(v0, v1);
        var t2 = Avx.UnpackLow(v2, v3); var t3 = Avx.UnpackHigh(v2, v3);
        var t4 = Avx.UnpackLow(v4, v5); var t5 = Avx.UnpackHigh(v4, v5);
        var t6 = Avx.UnpackLow(v6, v7); var t7 = Avx.UnpackHigh(v6, v7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).AsUInt32().StoreUnsafe(ref dst);
        Avx.Permute2x128(u1, u5, 0x20).AsUInt32().StoreUnsafe(ref dst, (nuint)dstStride);
        Avx.Permute2x128(u2, u6, 0x20).AsUInt32().StoreUnsafe(ref dst, (nuint)(2 * dstStride));
        Avx.Permute2x128(u3, u7, 0x20).AsUInt32().StoreUnsafe(ref dst, (nuint)(3 * dstStride));
        Avx.Permute2x128(u0, u4, 0x31).AsUInt32().StoreUnsafe(ref dst, (nuint)(4 * dstStride));
        Avx.Permute2x128(u1, u5, 0x31).AsUInt32().StoreUnsafe(ref dst, (nuint)(5 * dstStride));
        Avx.Permute2x128(u2, u6, 0x31).AsUInt32().StoreUnsafe(ref dst, (nuint)(6 * dstStride));
        Avx.Permute2x128(u3, u7, 0x31).AsUInt32().StoreUnsafe(ref dst, (nuint)(7 * dstStride));
    }
}
