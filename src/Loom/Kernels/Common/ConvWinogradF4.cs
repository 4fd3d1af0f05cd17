using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// F(4×4, 3×3)'s data transforms for the points 0, ±1, ±2, ∞, eight tiles of one tile row per vector. Input: V = Bᵀ·d·B of
/// each 6×6 patch, Bᵀ = [[4,0,−5,0,1,0], [0,−4,−4,1,1,0], [0,4,−4,−1,1,0], [0,−2,−1,2,1,0], [0,2,−1,−2,1,0], [0,4,0,−5,0,1]],
/// written into GEMM's packed-B layout as <see cref="WinogradF2"/> does. Patches start every 4 columns, so each
/// input row is first split into its 4 column phases (a transpose of 8×4 floats) and a tile's columns 4, 5 are phases 0, 1
/// of the next tile. Output: Y = Aᵀ·M·A, Aᵀ = [[1,1,1,1,1,0], [0,1,−1,2,−2,0], [0,1,1,4,4,0], [0,1,−1,8,−8,1]], then the
/// epilogue. The vector and scalar loops evaluate the same expressions lane by lane (no fused multiply-add): same bits.
/// </summary>
internal readonly unsafe struct WinogradF4 : IWinogradTiles
{
    private const int A = 6, F = A * A;

    public static int Tile => 4;

    /// <summary>Rows are split into 4 column phases 32 floats at a time, and the tiles' columns 4 and 5 are phases 0 and 1 of
    /// the next tile, so one group of 8 tiles more is read.</summary>
    public static int PadColumns => 32;

    /// <summary>The 6 input rows of a tile row split into their column phases.</summary>
    public static int InputScratch(in ConvWinogradLayout l) => 6 * l.Wp + 8;

    public static int UntileWork => 4 * A * 8;

    /// <summary>G for the points 0, 1, −1, 2, −2, ∞: thirds and sixths that float32 cannot hold.</summary>
    private static readonly double[] G =
    [
        1 / 4.0, 0, 0,
        -1 / 6.0, -1 / 6.0, -1 / 6.0,
        -1 / 6.0, 1 / 6.0, -1 / 6.0,
        1 / 24.0, 1 / 12.0, 1 / 6.0,
        1 / 24.0, -1 / 12.0, 1 / 6.0,
        0, 0, 1,
    ];

    /// <summary>
    /// V for tiles [<paramref name="t0"/>, <paramref name="t1"/>) and channels [<paramref name="c0"/>, <paramref name="c1"/>) of one image
    /// (of <paramref name="channels"/>), laid out as F(2×2)'s;
    /// <paramref name="phases"/> holds 6·Wp floats of scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Input(in ConvWinogradLayout l, float* planes, int channels, int c0, int c1, int t0, int t1, float* v, long vStride, int nr,
        float* scratch)
    {
        float* phases = scratch;
        float* tmp = stackalloc float[F * 8];
        float* work = stackalloc float[F * 8];
        bool vector = Avx2.IsSupported;
        int paddedT = l.PaddedT(t1 - t0), tilesW = l.TilesW, wp = l.Wp, pl = wp / 4;
        for (int c = c0; c < c1; c++)
        {
            int kb = c / GemmCore.KC * GemmCore.KC, kc = Math.Min(GemmCore.KC, channels - kb);
            float* vc = v + (long)kb * paddedT + (long)(c - kb) * nr;
            float* plane = planes + (long)c * l.PlaneSize;
            for (int ty = t0 / tilesW; ty * tilesW < t1; ty++)
            {
                int rowT = ty * tilesW, tx0 = Math.Max(0, t0 - rowT), tx1 = Math.Min(tilesW, t1 - rowT);
                float* rows = plane + 4L * ty * wp;
                if (vector)
                    for (int r = 0; r < A; r++)
                        for (int gs = tx0 / 8; gs * 8 <= tx1 + 7; gs++)
                            Split(rows + (long)r * wp + 32 * gs, phases + r * 4 * pl + 8 * gs, pl);
                for (int tx = tx0; tx < tx1; tx += 8)
                {
                    int t = rowT + tx - t0, count = Math.Min(8, tx1 - tx), lane = t % nr;
                    bool direct = vector && count == 8 && lane + 8 <= nr;
                    float* dst = direct ? vc + (long)(t - lane) * kc + lane : tmp;
                    long stride = direct ? vStride : 8;
                    if (vector) Tiles8(phases + tx, pl, dst, stride, work);
                    else for (int q = 0; q < count; q++) TileScalar(rows + 4 * (tx + q), wp, tmp + q, 8);
                    if (direct) continue;
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

    /// <summary>32 floats of a row (8 tiles × 4 columns) to its 4 column phases: phase j of tile q at dst[j·pl + q].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(float* src, float* dst, int pl)
    {
        var a = Vector256.Load(src);
        var b = Vector256.Load(src + 8);
        var c = Vector256.Load(src + 16);
        var d = Vector256.Load(src + 24);
        var p = Avx.Permute2x128(a, c, 0x20);  // tiles 0 | 4
        var q = Avx.Permute2x128(a, c, 0x31);  // tiles 1 | 5
        var r = Avx.Permute2x128(b, d, 0x20);  // tiles 2 | 6
        var s = Avx.Permute2x128(b, d, 0x31);  // tiles 3 | 7
        var u0 = Avx.UnpackLow(p, q);
        var u1 = Avx.UnpackHigh(p, q);
        var u2 = Avx.UnpackLow(r, s);
        var u3 = Avx.UnpackHigh(r, s);
        Vector256.Store(Avx.Shuffle(u0, u2, 0x44), dst);
        Vector256.Store(Avx.Shuffle(u0, u2, 0xEE), dst + pl);
        Vector256.Store(Avx.Shuffle(u1, u3, 0x44), dst + 2 * pl);
        Vector256.Store(Avx.Shuffle(u1, u3, 0xEE), dst + 3 * pl);
    }

    /// <summary>Eight tiles from the phases of their 6 rows (row r's phase j at ph + (4r + j)·pl): V_ξ of tile q at dst[ξ·stride + q].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tiles8(float* ph, int pl, float* dst, long stride, float* work)
    {
        // Bᵀ down each of the 6 patch columns, then Bᵀ along each of the 6 resulting rows.
        for (int j = 0; j < A; j++)
        {
            float* col = ph + (j < 4 ? j * pl : (j - 4) * pl + 1);
            long rs = 4L * pl;
            Bt(Vector256.Load(col), Vector256.Load(col + rs), Vector256.Load(col + 2 * rs), Vector256.Load(col + 3 * rs),
                Vector256.Load(col + 4 * rs), Vector256.Load(col + 5 * rs), work + j * 8, 48);
        }
        for (int i = 0; i < A; i++)
        {
            float* row = work + i * 48;
            Bt(Vector256.Load(row), Vector256.Load(row + 8), Vector256.Load(row + 16), Vector256.Load(row + 24),
                Vector256.Load(row + 32), Vector256.Load(row + 40), dst + i * A * stride, stride);
        }
    }

    /// <summary>Bᵀ·d: o_i at dst[i·stride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Bt(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4,
        Vector256<float> d5, float* dst, long stride)
    {
        var four = Vector256.Create(4f);
        var five = Vector256.Create(5f);
        var a = d4 - four * d2;
        var b = d3 - four * d1;
        var c = d4 - d2;
        var e = (d3 - d1) + (d3 - d1);
        Vector256.Store((four * d0 - five * d2) + d4, dst);
        Vector256.Store(a + b, dst + stride);
        Vector256.Store(a - b, dst + 2 * stride);
        Vector256.Store(c + e, dst + 3 * stride);
        Vector256.Store(c - e, dst + 4 * stride);
        Vector256.Store((four * d1 - five * d3) + d5, dst + 5 * stride);
    }

    private static void BtScalar(float d0, float d1, float d2, float d3, float d4, float d5, float* dst, long stride)
    {
        float a = d4 - 4f * d2, b = d3 - 4f * d1, c = d4 - d2, e = (d3 - d1) + (d3 - d1);
        dst[0] = (4f * d0 - 5f * d2) + d4;
        dst[stride] = a + b;
        dst[2 * stride] = a - b;
        dst[3 * stride] = c + e;
        dst[4 * stride] = c - e;
        dst[5 * stride] = (4f * d1 - 5f * d3) + d5;
    }

    /// <summary>One tile the same way (no AVX2): V_ξ at dst[ξ·stride].</summary>
    private static void TileScalar(float* p, int wp, float* dst, long stride)
    {
        float* h = stackalloc float[F];
        for (int j = 0; j < A; j++)
            BtScalar(p[j], p[wp + j], p[2 * wp + j], p[3 * wp + j], p[4 * wp + j], p[5 * wp + j], h + j, A);
        for (int i = 0; i < A; i++)
        {
            float* r = h + i * A;
            BtScalar(r[0], r[1], r[2], r[3], r[4], r[5], dst + i * A * stride, stride);
        }
    }

    /// <summary>Aᵀ·M·A for eight tiles: M_ξ of tile q at src[ξ·stride + q]; output row r of the tiles at dst + r·ldd, 4 per tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Untile8(float* src, long stride, float* dst, int ldd, float* work)
    {
        // Aᵀ down each column j (M_{i·6+j}, i = 0..5) into work[r·48 + j·8], then along each of the 4 rows.
        for (int j = 0; j < A; j++)
        {
            float* s = src + j * stride;
            long rs = A * stride;
            At(Vector256.Load(s), Vector256.Load(s + rs), Vector256.Load(s + 2 * rs), Vector256.Load(s + 3 * rs),
                Vector256.Load(s + 4 * rs), Vector256.Load(s + 5 * rs), out var y0, out var y1, out var y2, out var y3);
            Vector256.Store(y0, work + j * 8);
            Vector256.Store(y1, work + 48 + j * 8);
            Vector256.Store(y2, work + 96 + j * 8);
            Vector256.Store(y3, work + 144 + j * 8);
        }
        for (int r = 0; r < 4; r++)
        {
            float* w = work + r * 48;
            At(Vector256.Load(w), Vector256.Load(w + 8), Vector256.Load(w + 16), Vector256.Load(w + 24), Vector256.Load(w + 32),
                Vector256.Load(w + 40), out var c0, out var c1, out var c2, out var c3);
            // Interleave: [tile q's 4 outputs] for q = 0..7.
            var u0 = Avx.UnpackLow(c0, c1);
            var u1 = Avx.UnpackHigh(c0, c1);
            var u2 = Avx.UnpackLow(c2, c3);
            var u3 = Avx.UnpackHigh(c2, c3);
            var q0 = Avx.Shuffle(u0, u2, 0x44);  // tiles 0 | 4
            var q1 = Avx.Shuffle(u0, u2, 0xEE);  // tiles 1 | 5
            var q2 = Avx.Shuffle(u1, u3, 0x44);  // tiles 2 | 6
            var q3 = Avx.Shuffle(u1, u3, 0xEE);  // tiles 3 | 7
            float* d = dst + r * ldd;
            Vector256.Store(Avx.Permute2x128(q0, q1, 0x20), d);
            Vector256.Store(Avx.Permute2x128(q2, q3, 0x20), d + 8);
            Vector256.Store(Avx.Permute2x128(q0, q1, 0x31), d + 16);
            Vector256.Store(Avx.Permute2x128(q2, q3, 0x31), d + 24);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void At(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4,
        Vector256<float> m5, out Vector256<float> y0, out Vector256<float> y1, out Vector256<float> y2, out Vector256<float> y3)
    {
        var s12 = m1 + m2;
        var d12 = m1 - m2;
        var s34 = m3 + m4;
        var d34 = m3 - m4;
        y0 = (m0 + s12) + s34;
        y1 = d12 + Vector256.Create(2f) * d34;
        y2 = s12 + Vector256.Create(4f) * s34;
        y3 = (d12 + Vector256.Create(8f) * d34) + m5;
    }

    private static void AtScalar(float m0, float m1, float m2, float m3, float m4, float m5, float* dst, long stride)
    {
        float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        dst[0] = (m0 + s12) + s34;
        dst[stride] = d12 + 2f * d34;
        dst[2 * stride] = s12 + 4f * s34;
        dst[3 * stride] = (d12 + 8f * d34) + m5;
    }

    public static void UntileScalar(float* src, long stride, float* dst, int ldd)
    {
        float* t = stackalloc float[4 * A];
        for (int j = 0; j < A; j++)
            AtScalar(src[j * stride], src[(A + j) * stride], src[(2 * A + j) * stride], src[(3 * A + j) * stride],
                src[(4 * A + j) * stride], src[(5 * A + j) * stride], t + j, A);
        for (int r = 0; r < 4; r++)
        {
            float* w = t + r * A;
            AtScalar(w[0], w[1], w[2], w[3], w[4], w[5], dst + r * ldd, 1);
        }
    }

    /// <summary>The whole product G·g·Gᵀ in double, rounded once per value.</summary>
    public static void Weights(float* g, Span<double> gg, float* u, long plane)
    {
        for (int r = 0; r < A; r++)
            for (int c = 0; c < 3; c++)
                gg[r * 3 + c] = G[r * 3] * g[c] + G[r * 3 + 1] * g[3 + c] + G[r * 3 + 2] * g[6 + c];
        for (int r = 0; r < A; r++)
            for (int s = 0; s < A; s++)
                u[(r * A + s) * plane] = (float)(gg[r * 3] * G[s * 3] + gg[r * 3 + 1] * G[s * 3 + 1] + gg[r * 3 + 2] * G[s * 3 + 2]);
    }
}
