using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// The 8 × 48 offset micro-kernel (<see cref="GemmOffsetKernels"/>' contract, NR = 48) for pointwise layers with AVX-512: 24
/// accumulators, three B vectors and one broadcast A value per step, so each B line read from L2 feeds 12 cycles of FMAs instead
/// of 8, and the loads of B rows (each a different input channel, which no hardware prefetcher follows) have longer to arrive.
/// Bench <c>offset-kernel</c> (Zen 5, peak 207–214), B from L2: over 14×14 planes (rows 196 floats apart, misaligned) 201–202
/// GFLOP/s against 195–196 for the 8 × 32 tile (an earlier try without the weights prefetch: 189–192 against 164–171); over 28×28
/// and 56×56 planes alike. In ResNet-50 its pointwise layers took 3–4% less time relative to the rest (1 and 2 threads, three
/// alternated rounds each). Each output is the same FMA chain over k ascending as in the 8 × 32 tile, with the same epilogue:
/// the same bits.
/// </summary>
internal static unsafe class GemmOffsetKernels48
{
    public const int NR = 48;

    /// <inheritdoc cref="GemmOffsetKernels.Avx512x8x32{TPrefetch}"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x8x48<TPrefetch>(float* a, float* b, int* offsets, float* c, nint ldc, int k, GemmTileEpilogue* ep)
        where TPrefetch : struct, IOffsetPrefetch
    {
        Vector512<float> c00 = default, c01 = default, c02 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default;
        Vector512<float> c60 = default, c61 = default, c62 = default;
        Vector512<float> c70 = default, c71 = default, c72 = default;
        // 48 floats span three or four lines whatever their alignment.
        GemmOffsetKernels.PrefetchRows(c, ldc, NR);
        if (ep != null && ep->Residual != null && ep->Residual != c) GemmOffsetKernels.PrefetchRows(ep->Residual, ep->Ldr, NR);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + offsets[p];
            // Three probes 64 bytes apart, advancing 192 bytes a panel, touch every line of the row's next panel once.
            if (TPrefetch.NextPanel) { Sse.Prefetch0(bp + 48); Sse.Prefetch0(bp + 64); Sse.Prefetch0(bp + 80); }
            // The next row tile's A panel, one line every other step, into L2 (as the 8 × 32 tile).
            if (TPrefetch.NextWeights && (p & 1) == 0) Sse.Prefetch1(a + 8 * k);
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            var b2 = Vector512.Load(bp + 32);
            var av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01); c02 = Avx512F.FusedMultiplyAdd(av, b2, c02);
            av = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11); c12 = Avx512F.FusedMultiplyAdd(av, b2, c12);
            av = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21); c22 = Avx512F.FusedMultiplyAdd(av, b2, c22);
            av = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31); c32 = Avx512F.FusedMultiplyAdd(av, b2, c32);
            av = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41); c42 = Avx512F.FusedMultiplyAdd(av, b2, c42);
            av = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51); c52 = Avx512F.FusedMultiplyAdd(av, b2, c52);
            av = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(av, b0, c60); c61 = Avx512F.FusedMultiplyAdd(av, b1, c61); c62 = Avx512F.FusedMultiplyAdd(av, b2, c62);
            av = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(av, b0, c70); c71 = Avx512F.FusedMultiplyAdd(av, b1, c71); c72 = Avx512F.FusedMultiplyAdd(av, b2, c72);
            a += 8;
        }
        if (ep != null)
        {
            var f = new TileFinish512(ep);
            c00 = f.At(c00, 0, 0); c01 = f.At(c01, 0, 16); c02 = f.At(c02, 0, 32);
            c10 = f.At(c10, 1, 0); c11 = f.At(c11, 1, 16); c12 = f.At(c12, 1, 32);
            c20 = f.At(c20, 2, 0); c21 = f.At(c21, 2, 16); c22 = f.At(c22, 2, 32);
            c30 = f.At(c30, 3, 0); c31 = f.At(c31, 3, 16); c32 = f.At(c32, 3, 32);
            c40 = f.At(c40, 4, 0); c41 = f.At(c41, 4, 16); c42 = f.At(c42, 4, 32);
            c50 = f.At(c50, 5, 0); c51 = f.At(c51, 5, 16); c52 = f.At(c52, 5, 32);
            c60 = f.At(c60, 6, 0); c61 = f.At(c61, 6, 16); c62 = f.At(c62, 6, 32);
            c70 = f.At(c70, 7, 0); c71 = f.At(c71, 7, 16); c72 = f.At(c72, 7, 32);
        }
        c00.Store(c); c01.Store(c + 16); c02.Store(c + 32);
        c10.Store(c + ldc); c11.Store(c + ldc + 16); c12.Store(c + ldc + 32);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16); c22.Store(c + 2 * ldc + 32);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16); c32.Store(c + 3 * ldc + 32);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16); c42.Store(c + 4 * ldc + 32);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16); c52.Store(c + 5 * ldc + 32);
        c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16); c62.Store(c + 6 * ldc + 32);
        c70.Store(c + 7 * ldc); c71.Store(c + 7 * ldc + 16); c72.Store(c + 7 * ldc + 32);
    }
}
