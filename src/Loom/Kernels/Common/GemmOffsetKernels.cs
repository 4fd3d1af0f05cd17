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
    /// <summary>Steps between a B row's prefetch and its use (<see cref="IOffsetPrefetch.NextTaps"/>): 6, 12 and 24 measured alike (r41).</summary>
    private const int TapsAhead = 12;

    /// <summary>
    /// Requests the lines of a tile's eight rows of <paramref name="width"/> floats, <paramref name="ld"/> apart, into L1: every
    /// 16th float and the last one touch every line a row spans, whatever its alignment.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchRows(float* p, nint ld, int width)
    {
        for (int r = 0; r < 8; r++, p += ld)
        {
            for (int off = 0; off < width; off += 16) Sse.Prefetch0(p + off);
            Sse.Prefetch0(p + width - 1);
        }
    }

    /// <summary>
    /// 8 × 32 with software prefetch (<typeparamref name="TPrefetch"/>). NCHW layers read and write one stream per
    /// channel, more than the hardware prefetchers follow: the tile's output lines (and the residual, stored over or
    /// read where the tile lands) are requested before the k loop so that their misses overlap the multiply, and
    /// with <see cref="IOffsetPrefetch.NextPanel"/> each B row's next 32 columns are requested while this panel reads
    /// the current ones (pointwise layers, where rows are whole input channels walked left to right).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x8x32<TPrefetch>(float* a, float* b, int* offsets, float* c, nint ldc, int k, GemmTileEpilogue* ep)
        where TPrefetch : struct, IOffsetPrefetch
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        // 32 floats span two or three lines whatever their alignment: the first, middle and last float cover them. With a short
        // k loop (a stem's 27 or 147 steps, a 16-channel 3×3's 144) this tile's lines would not arrive in time: the next tile's are requested.
        PrefetchRows(TPrefetch.NextTile ? c + 32 : c, ldc, 32);
        if (ep != null && ep->Residual != null && ep->Residual != c) PrefetchRows(ep->Residual, ep->Ldr, 32);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + offsets[p];
            // Two probes 64 bytes apart, advancing 128 bytes a panel, touch every line of the row once (prefetches never fault).
            if (TPrefetch.NextPanel) { Sse.Prefetch0(bp + 32); Sse.Prefetch0(bp + 48); }
            // A B row TapsAhead steps on, into L1: deep 3×3 kernels whose planes outgrow L2 (ResNet's 56 → 28, 1.7 MB) would
            // otherwise wait on L3 for each channel's first taps, whose rows lie a whole plane apart where no prefetcher follows.
            if (TPrefetch.NextTaps)
            {
                float* ahead = b + offsets[p + TapsAhead < k ? p + TapsAhead : p];
                Sse.Prefetch0(ahead); Sse.Prefetch0(ahead + 16); Sse.Prefetch0(ahead + 31);
            }
            // The next row tile's full-depth A panel starts where this one ends (8·k floats on): one of its lines every other step
            // (16 floats = 2 steps), into L2, a whole panel ahead of its use (past the last panel it touches nothing that faults).
            if (TPrefetch.NextWeights && (p & 1) == 0) Sse.Prefetch1(a + 8 * k);
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
            var f = new TileFinish512(ep);
            c00 = f.At(c00, 0, 0); c01 = f.At(c01, 0, 16);
            c10 = f.At(c10, 1, 0); c11 = f.At(c11, 1, 16);
            c20 = f.At(c20, 2, 0); c21 = f.At(c21, 2, 16);
            c30 = f.At(c30, 3, 0); c31 = f.At(c31, 3, 16);
            c40 = f.At(c40, 4, 0); c41 = f.At(c41, 4, 16);
            c50 = f.At(c50, 5, 0); c51 = f.At(c51, 5, 16);
            c60 = f.At(c60, 6, 0); c61 = f.At(c61, 6, 16);
            c70 = f.At(c70, 7, 0); c71 = f.At(c71, 7, 16);
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

    /// <summary>
    /// 8 × 16: the left half of an 8 × 32 tile, for a last panel with at most 16 real columns (169 positions: 5 panels
    /// and 9 columns), which the 32-wide kernel would compute in full.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x8x16(float* a, float* b, int* offsets, float* c, nint ldc, int k, GemmTileEpilogue* ep)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < k; p++)
        {
            var b0 = Vector512.Load(b + offsets[p]);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            a += 8;
        }
        if (ep != null)
        {
            var f = new TileFinish512(ep);
            c0 = f.At(c0, 0, 0);
            c1 = f.At(c1, 1, 0);
            c2 = f.At(c2, 2, 0);
            c3 = f.At(c3, 3, 0);
            c4 = f.At(c4, 4, 0);
            c5 = f.At(c5, 5, 0);
            c6 = f.At(c6, 6, 0);
            c7 = f.At(c7, 7, 0);
        }
        c0.Store(c); c1.Store(c + ldc); c2.Store(c + 2 * ldc); c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc); c5.Store(c + 5 * ldc); c6.Store(c + 6 * ldc); c7.Store(c + 7 * ldc);
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
            var f = new TileFinish256(ep);
            c00 = f.At(c00, 0, 0); c01 = f.At(c01, 0, 8);
            c10 = f.At(c10, 1, 0); c11 = f.At(c11, 1, 8);
            c20 = f.At(c20, 2, 0); c21 = f.At(c21, 2, 8);
            c30 = f.At(c30, 3, 0); c31 = f.At(c31, 3, 8);
            c40 = f.At(c40, 4, 0); c41 = f.At(c41, 4, 8);
            c50 = f.At(c50, 5, 0); c51 = f.At(c51, 5, 8);
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
            var f = new TileFinishVector(ep);
            c00 = f.At(c00, 0, 0); c01 = f.At(c01, 0, w);
            c10 = f.At(c10, 1, 0); c11 = f.At(c11, 1, w);
            c20 = f.At(c20, 2, 0); c21 = f.At(c21, 2, w);
            c30 = f.At(c30, 3, 0); c31 = f.At(c31, 3, w);
        }
        Unsafe.WriteUnaligned(c, c00); Unsafe.WriteUnaligned(c + w, c01);
        Unsafe.WriteUnaligned(c + ldc, c10); Unsafe.WriteUnaligned(c + ldc + w, c11);
        Unsafe.WriteUnaligned(c + 2 * ldc, c20); Unsafe.WriteUnaligned(c + 2 * ldc + w, c21);
        Unsafe.WriteUnaligned(c + 3 * ldc, c30); Unsafe.WriteUnaligned(c + 3 * ldc + w, c31);
    }
}

/// <summary>Which lines <see cref="GemmOffsetKernels.Avx512x8x32{TPrefetch}"/> prefetches (a type argument: each variant is compiled without the test).</summary>
internal interface IOffsetPrefetch
{
    /// <summary>Each B row's next panel, during this one.</summary>
    static abstract bool NextPanel { get; }

    /// <summary>The next tile's output lines instead of this tile's.</summary>
    static abstract bool NextTile { get; }

    /// <summary>The next row tile's weights (the A panel after this one), for weights too large to stay in cache between runs.</summary>
    static abstract bool NextWeights { get; }

    /// <summary>The B row a few steps on (<c>offsets[p + TapsAhead]</c>), during step p.</summary>
    static abstract bool NextTaps { get; }
}

/// <summary>The tile's output (and residual) lines only: convolutions whose taps overlap, so B rows share lines.</summary>
internal struct PrefetchOutput : IOffsetPrefetch
{
    public static bool NextPanel => false;
    public static bool NextTile => false;
    public static bool NextWeights => false;
    public static bool NextTaps => false;
}

/// <summary>Output lines and the next panel of every B row: pointwise layers, one input channel per row.</summary>
internal struct PrefetchStreams : IOffsetPrefetch
{
    public static bool NextPanel => true;
    public static bool NextTile => false;
    public static bool NextWeights => false;
    public static bool NextTaps => false;
}

/// <summary>The next tile's output lines (the next 32 columns of the same rows): short k loops (stems), too short to wait for this tile's.</summary>
internal struct PrefetchNextTile : IOffsetPrefetch
{
    public static bool NextPanel => false;
    public static bool NextTile => true;
    public static bool NextWeights => false;
    public static bool NextTaps => false;
}

/// <summary>As <see cref="PrefetchStreams"/>, and the next row tile's weights: pointwise layers whose weights come from memory each run.</summary>
internal struct PrefetchStreamsAndWeights : IOffsetPrefetch
{
    public static bool NextPanel => true;
    public static bool NextTile => false;
    public static bool NextWeights => true;
    public static bool NextTaps => false;
}

/// <summary>
/// The next row tile's weights only: pointwise layers with large weights whose image fits in L2 (13×13 × 512 channels), where
/// the B rows of the next panel are already near and prefetching them into L1 evicts the current panel's lines (Zen 5 host,
/// SqueezeNet's classifier alone 1.10 → 0.98 ms, its 64×512 layer 0.072 → 0.067; docs/performance.md, sqz 2026-11-28).
/// </summary>
internal struct PrefetchWeights : IOffsetPrefetch
{
    public static bool NextPanel => false;
    public static bool NextTile => false;
    public static bool NextWeights => true;
    public static bool NextTaps => false;
}

/// <summary>
/// The tile's output lines and each B row a few steps ahead: deep (k &gt; 160) kernels over planes larger than L2. ResNet-50's
/// 3×3 stride-2 128-channel layer (56 → 28, phase planes 1.7 MB), alone, one thread, CPU-time minima: 1.32–1.83 → 1.24–1.59 ms.
/// </summary>
internal struct PrefetchTaps : IOffsetPrefetch
{
    public static bool NextPanel => false;
    public static bool NextTile => false;
    public static bool NextWeights => false;
    public static bool NextTaps => true;
}
