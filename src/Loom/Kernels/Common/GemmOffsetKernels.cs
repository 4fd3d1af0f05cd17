using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// Micro-kernels whose B operand is not packed: step p reads NR consecutive floats at <c>b + offsets[p]</c>.
/// With a padded image and one offset per (channel, ky, kx), that is a stride-1 convolution read straight
/// from its input (<see cref="ConvWideGemm"/>). A is a full-depth packed panel (MR values per step); the
/// MR×NR result is stored at c (row stride ldc): straight into Y when the tile's columns are consecutive
/// outputs, else into a scratch tile the caller scatters. An epilogue, if given, is applied before the store. Call-free, like
/// <see cref="GemmMicroKernels"/>, so the accumulators stay in registers.
/// </summary>
internal static unsafe class GemmOffsetKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x8x32(float* a, float* b, int* offsets, float* c, nint ldc, int k, GemmTileEpilogue* ep)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + offsets[p];
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            var av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(av, b0, c60); c61 = Avx512F.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(av, b0, c70); c71 = Avx512F.FusedMultiplyAdd(av, b1, c71);
            a += 8;
        }
        if (ep != null)
        {
            float* bias = ep->Bias, res = ep->Residual;
            nint ldr = ep->Ldr;
            int mode = (int)ep->Mode;
            var lo = Vector512.Create(ep->Lo);
            var hi = Vector512.Create(ep->Hi);
            var sa = Vector512.Create(ep->A);
            var sb = Vector512.Create(ep->B);
            c00 = GemmMicroKernels.Finish(c00, bias, 0, res, res, lo, hi, sa, sb, mode); c01 = GemmMicroKernels.Finish(c01, bias, 0, res, res + 16, lo, hi, sa, sb, mode);
            c10 = GemmMicroKernels.Finish(c10, bias, 1, res, res + ldr, lo, hi, sa, sb, mode); c11 = GemmMicroKernels.Finish(c11, bias, 1, res, res + ldr + 16, lo, hi, sa, sb, mode);
            c20 = GemmMicroKernels.Finish(c20, bias, 2, res, res + 2 * ldr, lo, hi, sa, sb, mode); c21 = GemmMicroKernels.Finish(c21, bias, 2, res, res + 2 * ldr + 16, lo, hi, sa, sb, mode);
            c30 = GemmMicroKernels.Finish(c30, bias, 3, res, res + 3 * ldr, lo, hi, sa, sb, mode); c31 = GemmMicroKernels.Finish(c31, bias, 3, res, res + 3 * ldr + 16, lo, hi, sa, sb, mode);
            c40 = GemmMicroKernels.Finish(c40, bias, 4, res, res + 4 * ldr, lo, hi, sa, sb, mode); c41 = GemmMicroKernels.Finish(c41, bias, 4, res, res + 4 * ldr + 16, lo, hi, sa, sb, mode);
            c50 = GemmMicroKernels.Finish(c50, bias, 5, res, res + 5 * ldr, lo, hi, sa, sb, mode); c51 = GemmMicroKernels.Finish(c51, bias, 5, res, res + 5 * ldr + 16, lo, hi, sa, sb, mode);
            c60 = GemmMicroKernels.Finish(c60, bias, 6, res, res + 6 * ldr, lo, hi, sa, sb, mode); c61 = GemmMicroKernels.Finish(c61, bias, 6, res, res + 6 * ldr + 16, lo, hi, sa, sb, mode);
            c70 = GemmMicroKernels.Finish(c70, bias, 7, res, res + 7 * ldr, lo, hi, sa, sb, mode); c71 = GemmMicroKernels.Finish(c71, bias, 7, res, res + 7 * ldr + 16, lo, hi, sa, sb, mode);
        }
        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + ldc); c11.Store(c + ldc + 16);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16);
        c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16);
        c70.Store(c + 7 * ldc); c71.Store(c + 7 * ldc + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Fma6x16(float* a, float* b, int* offsets, float* c, nint ldc, int k, GemmTileEpilogue* ep)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + offsets[p];
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + 8);
            var av = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += 6;
        }
        if (ep != null)
        {
            float* bias = ep->Bias, res = ep->Residual;
            nint ldr = ep->Ldr;
            int mode = (int)ep->Mode;
            var lo = Vector256.Create(ep->Lo);
            var hi = Vector256.Create(ep->Hi);
            var sa = Vector256.Create(ep->A);
            var sb = Vector256.Create(ep->B);
            c00 = GemmMicroKernels.Finish(c00, bias, 0, res, res, lo, hi, sa, sb, mode); c01 = GemmMicroKernels.Finish(c01, bias, 0, res, res + 8, lo, hi, sa, sb, mode);
            c10 = GemmMicroKernels.Finish(c10, bias, 1, res, res + ldr, lo, hi, sa, sb, mode); c11 = GemmMicroKernels.Finish(c11, bias, 1, res, res + ldr + 8, lo, hi, sa, sb, mode);
            c20 = GemmMicroKernels.Finish(c20, bias, 2, res, res + 2 * ldr, lo, hi, sa, sb, mode); c21 = GemmMicroKernels.Finish(c21, bias, 2, res, res + 2 * ldr + 8, lo, hi, sa, sb, mode);
            c30 = GemmMicroKernels.Finish(c30, bias, 3, res, res + 3 * ldr, lo, hi, sa, sb, mode); c31 = GemmMicroKernels.Finish(c31, bias, 3, res, res + 3 * ldr + 8, lo, hi, sa, sb, mode);
            c40 = GemmMicroKernels.Finish(c40, bias, 4, res, res + 4 * ldr, lo, hi, sa, sb, mode); c41 = GemmMicroKernels.Finish(c41, bias, 4, res, res + 4 * ldr + 8, lo, hi, sa, sb, mode);
            c50 = GemmMicroKernels.Finish(c50, bias, 5, res, res + 5 * ldr, lo, hi, sa, sb, mode); c51 = GemmMicroKernels.Finish(c51, bias, 5, res, res + 5 * ldr + 8, lo, hi, sa, sb, mode);
        }
        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 8);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 8);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 8);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 8);
    }

    /// <summary>4 × (2 vectors) with <see cref="Vector{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Portable(float* a, float* b, int* offsets, float* c, nint ldc, int k, GemmTileEpilogue* ep)
    {
        int w = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + offsets[p];
            var b0 = Unsafe.ReadUnaligned<Vector<float>>(bp);
            var b1 = Unsafe.ReadUnaligned<Vector<float>>(bp + w);
            c00 += new Vector<float>(a[0]) * b0; c01 += new Vector<float>(a[0]) * b1;
            c10 += new Vector<float>(a[1]) * b0; c11 += new Vector<float>(a[1]) * b1;
            c20 += new Vector<float>(a[2]) * b0; c21 += new Vector<float>(a[2]) * b1;
            c30 += new Vector<float>(a[3]) * b0; c31 += new Vector<float>(a[3]) * b1;
            a += 4;
        }
        if (ep != null)
        {
            float* bias = ep->Bias, res = ep->Residual;
            nint ldr = ep->Ldr;
            int mode = (int)ep->Mode;
            var lo = new Vector<float>(ep->Lo);
            var hi = new Vector<float>(ep->Hi);
            var sa = new Vector<float>(ep->A);
            var sb = new Vector<float>(ep->B);
            c00 = GemmMicroKernels.Finish(c00, bias, 0, res, res, lo, hi, sa, sb, mode); c01 = GemmMicroKernels.Finish(c01, bias, 0, res, res + w, lo, hi, sa, sb, mode);
            c10 = GemmMicroKernels.Finish(c10, bias, 1, res, res + ldr, lo, hi, sa, sb, mode); c11 = GemmMicroKernels.Finish(c11, bias, 1, res, res + ldr + w, lo, hi, sa, sb, mode);
            c20 = GemmMicroKernels.Finish(c20, bias, 2, res, res + 2 * ldr, lo, hi, sa, sb, mode); c21 = GemmMicroKernels.Finish(c21, bias, 2, res, res + 2 * ldr + w, lo, hi, sa, sb, mode);
            c30 = GemmMicroKernels.Finish(c30, bias, 3, res, res + 3 * ldr, lo, hi, sa, sb, mode); c31 = GemmMicroKernels.Finish(c31, bias, 3, res, res + 3 * ldr + w, lo, hi, sa, sb, mode);
        }
        Unsafe.WriteUnaligned(c, c00); Unsafe.WriteUnaligned(c + w, c01);
        Unsafe.WriteUnaligned(c + ldc, c10); Unsafe.WriteUnaligned(c + ldc + w, c11);
        Unsafe.WriteUnaligned(c + 2 * ldc, c20); Unsafe.WriteUnaligned(c + 2 * ldc + w, c21);
        Unsafe.WriteUnaligned(c + 3 * ldc, c30); Unsafe.WriteUnaligned(c + 3 * ldc + w, c31);
    }
}
