using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// Micro-kernels whose B operand is not packed: step p reads NR consecutive floats at <c>b + offsets[p]</c>.
/// With a padded image and one offset per (channel, ky, kx), that is a stride-1 convolution read straight
/// from its input (<see cref="ConvWideGemm"/>). A is a full-depth packed panel (MR values per step); the
/// MR×NR result goes to a tile (row stride NR) for the caller to scatter; an epilogue, if given, adds
/// the bias and clamps first (its residual is not used: the caller adds it where the tile lands). Call-free, like
/// <see cref="GemmMicroKernels"/>, so the accumulators stay in registers.
/// </summary>
internal static unsafe class GemmOffsetKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x8x32(float* a, float* b, int* offsets, float* tile, int k, GemmTileEpilogue* ep)
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
            float* bias = ep->Bias;
            bool clamp = ep->Clamp;
            var lo = Vector512.Create(ep->Lo);
            var hi = Vector512.Create(ep->Hi);
            c00 = GemmMicroKernels.Finish(c00, bias, 0, null, null, lo, hi, clamp); c01 = GemmMicroKernels.Finish(c01, bias, 0, null, null, lo, hi, clamp);
            c10 = GemmMicroKernels.Finish(c10, bias, 1, null, null, lo, hi, clamp); c11 = GemmMicroKernels.Finish(c11, bias, 1, null, null, lo, hi, clamp);
            c20 = GemmMicroKernels.Finish(c20, bias, 2, null, null, lo, hi, clamp); c21 = GemmMicroKernels.Finish(c21, bias, 2, null, null, lo, hi, clamp);
            c30 = GemmMicroKernels.Finish(c30, bias, 3, null, null, lo, hi, clamp); c31 = GemmMicroKernels.Finish(c31, bias, 3, null, null, lo, hi, clamp);
            c40 = GemmMicroKernels.Finish(c40, bias, 4, null, null, lo, hi, clamp); c41 = GemmMicroKernels.Finish(c41, bias, 4, null, null, lo, hi, clamp);
            c50 = GemmMicroKernels.Finish(c50, bias, 5, null, null, lo, hi, clamp); c51 = GemmMicroKernels.Finish(c51, bias, 5, null, null, lo, hi, clamp);
            c60 = GemmMicroKernels.Finish(c60, bias, 6, null, null, lo, hi, clamp); c61 = GemmMicroKernels.Finish(c61, bias, 6, null, null, lo, hi, clamp);
            c70 = GemmMicroKernels.Finish(c70, bias, 7, null, null, lo, hi, clamp); c71 = GemmMicroKernels.Finish(c71, bias, 7, null, null, lo, hi, clamp);
        }
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Fma6x16(float* a, float* b, int* offsets, float* tile, int k, GemmTileEpilogue* ep)
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
            float* bias = ep->Bias;
            bool clamp = ep->Clamp;
            var lo = Vector256.Create(ep->Lo);
            var hi = Vector256.Create(ep->Hi);
            c00 = GemmMicroKernels.Finish(c00, bias, 0, null, null, lo, hi, clamp); c01 = GemmMicroKernels.Finish(c01, bias, 0, null, null, lo, hi, clamp);
            c10 = GemmMicroKernels.Finish(c10, bias, 1, null, null, lo, hi, clamp); c11 = GemmMicroKernels.Finish(c11, bias, 1, null, null, lo, hi, clamp);
            c20 = GemmMicroKernels.Finish(c20, bias, 2, null, null, lo, hi, clamp); c21 = GemmMicroKernels.Finish(c21, bias, 2, null, null, lo, hi, clamp);
            c30 = GemmMicroKernels.Finish(c30, bias, 3, null, null, lo, hi, clamp); c31 = GemmMicroKernels.Finish(c31, bias, 3, null, null, lo, hi, clamp);
            c40 = GemmMicroKernels.Finish(c40, bias, 4, null, null, lo, hi, clamp); c41 = GemmMicroKernels.Finish(c41, bias, 4, null, null, lo, hi, clamp);
            c50 = GemmMicroKernels.Finish(c50, bias, 5, null, null, lo, hi, clamp); c51 = GemmMicroKernels.Finish(c51, bias, 5, null, null, lo, hi, clamp);
        }
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
    }

    /// <summary>4 × (2 vectors) with <see cref="Vector{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Portable(float* a, float* b, int* offsets, float* tile, int k, GemmTileEpilogue* ep)
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
            float* bias = ep->Bias;
            bool clamp = ep->Clamp;
            var lo = new Vector<float>(ep->Lo);
            var hi = new Vector<float>(ep->Hi);
            c00 = GemmMicroKernels.Finish(c00, bias, 0, null, null, lo, hi, clamp); c01 = GemmMicroKernels.Finish(c01, bias, 0, null, null, lo, hi, clamp);
            c10 = GemmMicroKernels.Finish(c10, bias, 1, null, null, lo, hi, clamp); c11 = GemmMicroKernels.Finish(c11, bias, 1, null, null, lo, hi, clamp);
            c20 = GemmMicroKernels.Finish(c20, bias, 2, null, null, lo, hi, clamp); c21 = GemmMicroKernels.Finish(c21, bias, 2, null, null, lo, hi, clamp);
            c30 = GemmMicroKernels.Finish(c30, bias, 3, null, null, lo, hi, clamp); c31 = GemmMicroKernels.Finish(c31, bias, 3, null, null, lo, hi, clamp);
        }
        Unsafe.WriteUnaligned(tile, c00); Unsafe.WriteUnaligned(tile + w, c01);
        Unsafe.WriteUnaligned(tile + 2 * w, c10); Unsafe.WriteUnaligned(tile + 3 * w, c11);
        Unsafe.WriteUnaligned(tile + 4 * w, c20); Unsafe.WriteUnaligned(tile + 5 * w, c21);
        Unsafe.WriteUnaligned(tile + 6 * w, c30); Unsafe.WriteUnaligned(tile + 7 * w, c31);
    }
}
