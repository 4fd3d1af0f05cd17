using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// F(2×2, 3×3)'s data transforms, eight tiles of one tile row per vector. Input: V = Bᵀ·d·B of each 4×4 patch d of the
/// zero-bordered planes, Bᵀ = [[1,0,−1,0], [0,1,1,0], [0,−1,1,0], [0,1,0,−1]], written straight into the packed-B layout
/// <see cref="GemmCore"/> reads (K blocks of <see cref="GemmCore.KC"/> channels × NR-tile panels), so V is never repacked.
/// Output: Y = Aᵀ·M·A, Aᵀ = [[1,1,1,0], [0,1,−1,−1]] (<see cref="ConvWinogradOutput"/> adds the epilogue). Weights: U = G·g·Gᵀ,
/// G = [[1,0,0], [½,½,½], [½,−½,½], [0,0,1]]. Only additions and subtractions, lane by lane: the vector and scalar loops give
/// the same bits.
/// </summary>
internal readonly unsafe struct WinogradF2 : IWinogradTiles
{
    private const int A = 4, F = A * A;

    public static int Tile => 2;

    /// <summary>Vectors of 8 tiles read 2 columns past 16.</summary>
    public static int PadColumns => 2;

    public static int InputScratch(in ConvWinogradLayout l) => 0;

    public static int UntileWork => 0;

    /// <summary>
    /// V for tiles [<paramref name="t0"/>, <paramref name="t1"/>) and channels [<paramref name="c0"/>, <paramref name="c1"/>) of one image
    /// (of <paramref name="channels"/>): V_ξ starts at v + ξ·<paramref name="vStride"/>,
    /// channel c and block tile t at the packed position for a matrix of <paramref name="paddedT"/> columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Input(in ConvWinogradLayout l, float* planes, int channels, int c0, int c1, int t0, int t1, float* v, long vStride, int nr,
        float* scratch)
    {
        float* tmp = stackalloc float[F * 8];
        bool vector = Avx2.IsSupported;
        int paddedT = l.PaddedT(t1 - t0), tilesW = l.TilesW, wp = l.Wp;
        for (int c = c0; c < c1; c++)
        {
            int kb = c / GemmCore.KC * GemmCore.KC, kc = Math.Min(GemmCore.KC, channels - kb);
            float* vc = v + (long)kb * paddedT + (long)(c - kb) * nr;
            float* plane = planes + c * l.PlaneSize;
            for (int ty = t0 / tilesW; ty * tilesW < t1; ty++)
            {
                int rowT = ty * tilesW, tx0 = Math.Max(0, t0 - rowT), tx1 = Math.Min(tilesW, t1 - rowT);
                float* rows = plane + 2L * ty * wp;
                for (int tx = tx0; tx < tx1; tx += 8)
                {
                    int t = rowT + tx - t0, count = Math.Min(8, tx1 - tx), lane = t % nr;
                    bool direct = vector && count == 8 && lane + 8 <= nr;
                    float* dst = direct ? vc + (long)(t - lane) * kc + lane : tmp;
                    long stride = direct ? vStride : 8;
                    if (vector) Tiles8(rows + 2 * tx, wp, dst, stride);
                    else for (int q = 0; q < count; q++) TileScalar(rows + 2 * (tx + q), wp, tmp + q, 8);
                    if (direct) continue;
                    if (vector && Avx512F.VL.IsSupported)
                    {
                        MaskedStores(tmp, vc, t, lane, count, kc, nr, vStride);
                        continue;
                    }
                    for (int q = 0; q < count; q++)
                    {
                        int tq = t + q, lq = tq % nr;
                        float* d = vc + (long)(tq - lq) * kc + lq;
                        for (int xi = 0; xi < F; xi++) d[xi * vStride] = tmp[xi * 8 + q];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Stores eight tiles' V_ξ (tmp[ξ·8 + q]) of which the first <paramref name="count"/> are real and may run past the panel's
    /// last lane into the next panel, with two masked stores per ξ instead of sixteen scalar ones: the groups that end a tile
    /// row or straddle a panel are a third of them at 56×56 and all of them at 14×14.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaskedStores(float* tmp, float* vc, int t, int lane, int count, int kc, int nr, long vStride)
    {
        int first = Math.Min(count, nr - lane);
        var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var here = Vector256.LessThan(index, Vector256.Create(first)).AsSingle();
        var next = (Vector256.GreaterThanOrEqual(index, Vector256.Create(first)) & Vector256.LessThan(index, Vector256.Create(count))).AsSingle();
        float* d1 = vc + (long)(t - lane) * kc + lane;
        // Lane j ≥ first goes to lane j − first of the next panel.
        float* d2 = vc + (long)(t - lane + nr) * kc - first;
        bool wraps = first < count;
        for (int xi = 0; xi < F; xi++)
        {
            var v = Vector256.Load(tmp + xi * 8);
            Avx512F.VL.MaskStore(d1 + xi * vStride, here, v);
            if (wraps) Avx512F.VL.MaskStore(d2 + xi * vStride, next, v);
        }
    }

    /// <summary>The transforms of eight adjacent tiles whose patches start at p (row stride wp): V_ξ of tile q at dst[ξ·stride + q].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tiles8(float* p, int wp, float* dst, long stride)
    {
        Horizontal(p, out var a0, out var a1, out var a2, out var a3);
        Horizontal(p + wp, out var b0, out var b1, out var b2, out var b3);
        Horizontal(p + 2 * wp, out var c0, out var c1, out var c2, out var c3);
        Horizontal(p + 3 * wp, out var d0, out var d1, out var d2, out var d3);
        Vertical(a0, b0, c0, d0, dst, stride);
        Vertical(a1, b1, c1, d1, dst + stride, stride);
        Vertical(a2, b2, c2, d2, dst + 2 * stride, stride);
        Vertical(a3, b3, c3, d3, dst + 3 * stride, stride);
    }

    /// <summary>d·B of one patch row for eight tiles: the row's even and odd elements at 2q and 2q + 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Horizontal(float* row, out Vector256<float> h0, out Vector256<float> h1, out Vector256<float> h2, out Vector256<float> h3)
    {
        var a = Vector256.Load(row);
        var b = Vector256.Load(row + 8);
        var c = Vector256.Load(row + 2);
        var d = Vector256.Load(row + 10);
        var e0 = ConvPaddedPlane.Even(a, b);
        var o0 = Odd(a, b);
        var e1 = ConvPaddedPlane.Even(c, d);
        var o1 = Odd(c, d);
        h0 = e0 - e1;
        h1 = o0 + e1;
        h2 = e1 - o0;
        h3 = o0 - o1;
    }

    /// <summary>Bᵀ applied down one column j of the row results: V_{i·4+j} for i = 0..3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Vertical(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3, float* dst, long stride)
    {
        Vector256.Store(r0 - r2, dst);
        Vector256.Store(r1 + r2, dst + 4 * stride);
        Vector256.Store(r2 - r1, dst + 8 * stride);
        Vector256.Store(r1 - r3, dst + 12 * stride);
    }

    /// <summary>[a1 a3 a5 a7 b1 b3 b5 b7].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Odd(Vector256<float> a, Vector256<float> b) =>
        Avx2.Permute4x64(Avx.Shuffle(a, b, 0xDD).AsDouble(), 0xD8).AsSingle();

    /// <summary>One tile the same way (no AVX2): V_ξ at dst[ξ·stride].</summary>
    private static void TileScalar(float* p, int wp, float* dst, long stride)
    {
        float* h = stackalloc float[F];
        for (int r = 0; r < 4; r++)
        {
            float* row = p + r * wp;
            h[r * 4] = row[0] - row[2];
            h[r * 4 + 1] = row[1] + row[2];
            h[r * 4 + 2] = row[2] - row[1];
            h[r * 4 + 3] = row[1] - row[3];
        }
        for (int j = 0; j < 4; j++)
        {
            dst[j * stride] = h[j] - h[8 + j];
            dst[(4 + j) * stride] = h[4 + j] + h[8 + j];
            dst[(8 + j) * stride] = h[8 + j] - h[4 + j];
            dst[(12 + j) * stride] = h[4 + j] - h[12 + j];
        }
    }

    /// <summary>Aᵀ·M·A for eight tiles: M_ξ of tile q at src[ξ·stride + q]; output row i of the pairs at dst + i·ldd, interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Untile8(float* src, long stride, float* dst, int ldd, float* work)
    {
        // Aᵀ down each column j: s_j = m0j + m1j + m2j, d_j = m1j − m2j − m3j.
        Column(src, stride, out var s0, out var d0);
        Column(src + stride, stride, out var s1, out var d1);
        Column(src + 2 * stride, stride, out var s2, out var d2);
        Column(src + 3 * stride, stride, out var s3, out var d3);
        Pairs(s0 + s1 + s2, s1 - s2 - s3, dst);
        Pairs(d0 + d1 + d2, d1 - d2 - d3, dst + ldd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(float* src, long stride, out Vector256<float> sum, out Vector256<float> diff)
    {
        var m0 = Vector256.Load(src);
        var m1 = Vector256.Load(src + 4 * stride);
        var m2 = Vector256.Load(src + 8 * stride);
        var m3 = Vector256.Load(src + 12 * stride);
        sum = m0 + m1 + m2;
        diff = m1 - m2 - m3;
    }

    /// <summary>Stores [l0 r0 l1 r1 … l7 r7]: each tile's two outputs side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pairs(Vector256<float> left, Vector256<float> right, float* dst)
    {
        var lo = Avx.UnpackLow(left, right);
        var hi = Avx.UnpackHigh(left, right);
        Vector256.Store(Avx.Permute2x128(lo, hi, 0x20), dst);
        Vector256.Store(Avx.Permute2x128(lo, hi, 0x31), dst + 8);
    }

    public static void UntileScalar(float* src, long stride, float* dst, int ldd)
    {
        float* s = stackalloc float[4];
        float* d = stackalloc float[4];
        for (int j = 0; j < 4; j++)
        {
            float m0 = src[j * stride], m1 = src[(4 + j) * stride], m2 = src[(8 + j) * stride], m3 = src[(12 + j) * stride];
            s[j] = m0 + m1 + m2;
            d[j] = m1 - m2 - m3;
        }
        dst[0] = s[0] + s[1] + s[2];
        dst[1] = s[1] - s[2] - s[3];
        dst[ldd] = d[0] + d[1] + d[2];
        dst[ldd + 1] = d[1] - d[2] - d[3];
    }

    /// <summary>G·g (α×3), then (G·g)·Gᵀ (α×α), in double: the ½ factors are exact, the sums round once at the end.</summary>
    public static void Weights(float* g, Span<double> gg, float* u, long plane)
    {
        for (int c = 0; c < 3; c++)
        {
            double g0 = g[c], g1 = g[3 + c], g2 = g[6 + c];
            gg[c] = g0;
            gg[3 + c] = 0.5 * (g0 + g1 + g2);
            gg[6 + c] = 0.5 * (g0 - g1 + g2);
            gg[9 + c] = g2;
        }
        for (int r = 0; r < A; r++)
        {
            double h0 = gg[r * 3], h1 = gg[r * 3 + 1], h2 = gg[r * 3 + 2];
            u[(r * A + 0) * plane] = (float)h0;
            u[(r * A + 1) * plane] = (float)(0.5 * (h0 + h1 + h2));
            u[(r * A + 2) * plane] = (float)(0.5 * (h0 - h1 + h2));
            u[(r * A + 3) * plane] = (float)h2;
        }
    }
}
