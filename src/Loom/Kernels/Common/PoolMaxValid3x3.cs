using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// 3×3 stride-2 max pooling whose windows all lie inside the input (no padding, no partial ceil_mode window: SqueezeNet's
/// 111 → 55, 55 → 27 and 27 → 13 pools), with AVX-512, read straight from the input: each input row's column maxima of
/// sixteen outputs (its "row max": taps 0, 1, 2 from two load pairs and three VPERMT2PS) are computed once, and an output
/// row is the max of three consecutive row maxima, the shared one (row 2·oy, the previous output row's last) kept from the
/// row before. <see cref="PoolMaxSeparable512"/>'s row-first order wrote every output row's three-row max to a scratch row
/// and read it back at column offsets that straddle its stores (no store forwarding), and computed each shared row twice.
/// Every comparison is MAXPS(value, running max) from −∞, which keeps the running max on a tie or a NaN: the first maximum
/// in row-major window order, NaN never winning (as the ONNX definition and <see cref="PoolCore"/>).
/// </summary>
internal static unsafe class PoolMaxValid3x3
{
    /// <summary>
    /// Output rows ahead whose input rows are prefetched into L1 (across into the part's next plane near a plane's end). The
    /// hardware prefetchers did not keep ahead of these reads on the Zen 5 host: SqueezeNet's pools at one thread went
    /// 0.108–0.118 → 0.076–0.085, 0.051–0.054 → 0.038–0.039 and 0.034–0.046 → 0.024–0.025 ms (alternated, 2026-11-29 00:15).
    /// </summary>
    private const int PrefetchAhead = 3;
    public static bool Supports(Conv3D g) =>
        g.KH == 3 && g.KW == 3 && g.SH == 2 && g.SW == 2 && g.LH == 1 && g.LW == 1 && g.PH == 0 && g.PW == 0
        && 2 * (g.OH - 1) + 3 <= g.IH && 2 * (g.OW - 1) + 3 <= g.IW && Avx512F.IsSupported;

    /// <summary>Output rows [<paramref name="oyStart"/>, <paramref name="oyEnd"/>) of planes [<paramref name="p0"/>, <paramref name="p1"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Planes(float* x, float* y, int p0, int p1, int oyStart, int oyEnd, Conv3D g)
    {
        if (oyStart >= oyEnd) return;
        int iw = g.IW, ow = g.OW;
        // Strips of sixteen outputs; the last shifted back to end at the row's end, or one masked strip for rows under sixteen.
        int strips = (ow + 15) / 16, lastStart = Math.Max(0, ow - 16);
        float* above = GemmScratch.ForThread.Extra(strips * 16);
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var stored = Vector512.LessThan(lane, Vector512.Create(ow)).AsSingle();
        // A strip at output o0 loads input columns [2·o0, 2·o0 + 34): the last strip's loads stop at the row's end (masked).
        int edge = iw - 2 * lastStart;
        var last = new Masks(Vector512.LessThan(lane, Vector512.Create(edge)).AsSingle(), Vector512.LessThan(lane, Vector512.Create(edge - 16)).AsSingle(),
            Vector512.LessThan(lane, Vector512.Create(edge - 2)).AsSingle(), Vector512.LessThan(lane, Vector512.Create(edge - 18)).AsSingle());
        bool lastMasked = edge < 34;
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        for (int p = p0; p < p1; p++)
        {
            float* xp = x + (long)p * g.InputSize, yp = y + (long)p * g.OutputSize;
            // Row 2·oyStart, the first output row's top window row.
            float* top = xp + (long)2 * oyStart * iw;
            for (int s = 0; s < strips; s++)
            {
                int o0 = s == strips - 1 ? lastStart : 16 * s;
                Vector512.Store(s == strips - 1 && lastMasked ? RowMax(top + 2 * o0, last, even, odd) : RowMax(top + 2 * o0, even, odd), above + 16 * s);
            }
            for (int oy = oyStart; oy < oyEnd; oy++)
            {
                float* r1 = xp + (long)(2 * oy + 1) * iw, r2 = r1 + iw, yr = yp + (long)oy * ow;
                PoolMaxSeparable512.PrefetchRows(xp, p + 1 < p1 ? xp + g.InputSize : null, oy + PrefetchAhead, oyStart, oyEnd, g, keepsTopRow: true);
                for (int s = 0; s < strips; s++)
                {
                    int o0 = s == strips - 1 ? lastStart : 16 * s;
                    Vector512<float> m1, m2;
                    if (s == strips - 1 && lastMasked)
                    {
                        m1 = RowMax(r1 + 2 * o0, last, even, odd);
                        m2 = RowMax(r2 + 2 * o0, last, even, odd);
                    }
                    else
                    {
                        m1 = RowMax(r1 + 2 * o0, even, odd);
                        m2 = RowMax(r2 + 2 * o0, even, odd);
                    }
                    // Rows in window order: the kept top row first (the running max), then the two below.
                    var v = Avx512F.Max(m2, Avx512F.Max(m1, Vector512.Load(above + 16 * s)));
                    if (ow < 16) Avx512F.MaskStore(yr, stored, v);
                    else Vector512.Store(v, yr + o0);
                    Vector512.Store(m2, above + 16 * s);
                }
            }
        }
    }

    /// <summary>The loads' lanes inside the row, for loads at column offsets 0, 16, 2 and 18 of the last strip.</summary>
    private readonly struct Masks(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        public readonly Vector512<float> A = a, B = b, C = c, D = d;
    }

    /// <summary>Sixteen outputs' max over taps 0, 1, 2 of one input row (s = the first output's first column).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RowMax(float* s, Vector512<int> even, Vector512<int> odd) =>
        Taps(Vector512.Load(s), Vector512.Load(s + 16), Vector512.Load(s + 2), Vector512.Load(s + 18), even, odd);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RowMax(float* s, Masks m, Vector512<int> even, Vector512<int> odd)
    {
        var z = Vector512.Create(float.NegativeInfinity);
        return Taps(Avx512F.MaskLoad(s, m.A, z), Avx512F.MaskLoad(s + 16, m.B, z), Avx512F.MaskLoad(s + 2, m.C, z), Avx512F.MaskLoad(s + 18, m.D, z), even, odd);
    }

    /// <summary>Tap 0 (even lanes of a, b), tap 1 (odd), tap 2 (even lanes of c, d: two columns on), in that order from −∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Taps(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, Vector512<int> even, Vector512<int> odd)
    {
        var m = Avx512F.Max(Avx512F.PermuteVar16x32x2(a, even, b), Vector512.Create(float.NegativeInfinity));
        m = Avx512F.Max(Avx512F.PermuteVar16x32x2(a, odd, b), m);
        return Avx512F.Max(Avx512F.PermuteVar16x32x2(c, even, d), m);
    }
}
