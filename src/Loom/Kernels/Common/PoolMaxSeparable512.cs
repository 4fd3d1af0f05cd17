using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// <see cref="PoolMaxSeparable"/> with 16-wide AVX-512 vectors: per output row, the max over the window's rows
/// (read straight from the input) into one bordered row, then the max over its columns, sixteen outputs per
/// vector. At stride 2 one pair of loads feeds two taps: VPERMT2PS takes the even elements (tap 0) and the odd
/// ones (tap 1) of the same 32 floats, so a 3-wide window costs two load pairs and three permutes per sixteen
/// outputs where the 8-wide kernel paid three pairs and six shuffles per eight. Rows of fewer than sixteen
/// outputs (a 13×13 plane) are one vector with a masked store. The bordered row never holds a NaN (the row
/// pass starts from −∞ and MAXPS keeps its second operand, the running max, when either is NaN), so NaN never
/// wins, as in <see cref="PoolCore"/>, whatever the order of the column taps.
/// </summary>
internal static unsafe class PoolMaxSeparable512
{
    /// <summary>Output rows whose row pass runs before their column pass (see <see cref="Planes"/>).</summary>
    private const int Block = 8;

    /// <summary>Rows at least 16 wide (the row pass's vectors stay inside the input row).</summary>
    public static bool Supports(Conv3D g) => PoolMaxSeparable.Supports(g) && g.IW >= 16 && Avx512F.IsSupported;

    /// <summary>Output rows [<paramref name="oy0"/>, <paramref name="oy1"/>) of planes [<paramref name="p0"/>, <paramref name="p1"/>).</summary>
    public static void Planes(float* x, float* y, int p0, int p1, int oy0, int oy1, Conv3D g)
    {
        // The 3×3 stride-2 window (most CNNs' max pools) gets unrolled loops, or, with every window inside the input, the
        // row-max kernel (SqueezeNet's pools in the model, one thread: 0.11–0.12 → 0.08, 0.055 → 0.040, 0.029 → 0.022 ms);
        // anything else the general ones.
        if (PoolMaxValid3x3.Supports(g)) PoolMaxValid3x3.Planes(x, y, p0, p1, oy0, oy1, g);
        else if (g.KH == 3 && g.KW == 3 && g.SW == 2) Planes<Rows3, Stride2Taps3>(x, y, p0, p1, oy0, oy1, g);
        else if (g.SW == 2) Planes<RowsAny, Stride2Taps>(x, y, p0, p1, oy0, oy1, g);
        else Planes<RowsAny, Stride1Taps>(x, y, p0, p1, oy0, oy1, g);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Planes<TRows, TTaps>(float* x, float* y, int p0, int p1, int oyStart, int oyEnd, Conv3D g)
        where TRows : struct, IRows where TTaps : struct, ITaps
    {
        int iw = g.IW, ih = g.IH, ow = g.OW, pw = g.PW, kw = g.KW, kh = g.KH;
        // Row pitch: 32 floats past the row, as a 16-wide stride-2 vector of a short row reads up to 31 + KW − 1 floats from its start.
        int width = ConvPaddedPlane.Size(g).Width, pitch = width + 32 + kw;
        float* rows = GemmScratch.ForThread.Extra(Block * pitch);
        // The padding columns stay −∞; the input columns [pw, pw + iw) are rewritten for every output row.
        for (int c = 0; c < Block * pitch; c++) rows[c] = float.NegativeInfinity;
        var taps = new TapState(kw);
        // Outputs past the row's end are not stored: a short row is one vector under this mask.
        var tail = Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(ow)).AsSingle();
        for (int p = p0; p < p1; p++)
        {
            float* xp = x + (long)p * g.InputSize, yp = y + (long)p * g.OutputSize;
            // The row pass runs Block output rows ahead of the column pass: a load that spans two recent stores
            // cannot be forwarded from the store buffer and waits for both to retire, which short rows would pay every row.
            for (int oy0 = oyStart; oy0 < oyEnd; oy0 += Block)
            {
                int n = Math.Min(Block, oyEnd - oy0);
                for (int j = 0; j < n; j++)
                {
                    PrefetchRows(xp, p + 1 < p1 ? xp + g.InputSize : null, oy0 + j + PrefetchAhead, oyStart, oyEnd, g);
                    int iy0 = (oy0 + j) * g.SH - g.PH, r0 = Math.Max(iy0, 0), r1 = Math.Min(iy0 + kh, ih);
                    float* dst = rows + j * pitch + pw, src = xp + (long)r0 * iw;
                    // Sixteen columns at a time, the last vector shifted back to end at the row's end.
                    if (r1 - r0 == kh)
                        for (int c = 0; c < iw; c += 16)
                        {
                            int s = c + 16 <= iw ? c : iw - 16;
                            Vector512.Store(default(TRows).Max(src + s, iw, kh), dst + s);
                        }
                    else
                        for (int c = 0; c < iw; c += 16)
                        {
                            int s = c + 16 <= iw ? c : iw - 16;
                            Vector512.Store(RowsAny.Rows(src + s, iw, r1 - r0), dst + s);
                        }
                }
                for (int j = 0; j < n; j++)
                {
                    float* row = rows + j * pitch, yr = yp + (oy0 + j) * ow;
                    if (ow < 16)
                    {
                        Avx512F.MaskStore(yr, tail, default(TTaps).Max(row, taps));
                        continue;
                    }
                    for (int ox = 0; ox < ow; ox += 16)
                    {
                        int s = ox + 16 <= ow ? ox : ow - 16;
                        Vector512.Store(default(TTaps).Max(row + s * default(TTaps).Stride, taps), yr + s);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Output rows ahead whose input rows are prefetched into L1 (into the part's next plane near a plane's end), as in
    /// <see cref="PoolMaxValid3x3"/>: ResNet-50's and DenseNet-121's padded 3×3 stride-2 pools (112 → 56) at one thread
    /// 0.141–0.201 → 0.131–0.142 ms (alternated, 2026-11-29 01:00).
    /// </summary>
    private const int PrefetchAhead = 3;

    /// <summary>
    /// Prefetches into L1 the input rows of output row <paramref name="t"/> of <paramref name="plane"/>, or, past the part's last
    /// row, of row t − (end − start) of <paramref name="next"/> (the part's next plane; null when there is none). With
    /// <paramref name="keepsTopRow"/> the window's first row is skipped except at the part's first row (<see cref="PoolMaxValid3x3"/>
    /// keeps it from the row before).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchRows(float* plane, float* next, int t, int oyStart, int oyEnd, Conv3D g, bool keepsTopRow = false)
    {
        if (t >= oyEnd)
        {
            t = oyStart + t - oyEnd;
            plane = next;
            if (plane == null || t >= oyEnd) return;
        }
        int top = t * g.SH - g.PH, r0 = Math.Max(keepsTopRow && t != oyStart ? top + 1 : top, 0), r1 = Math.Min(top + g.KH, g.IH);
        for (float* l = plane + (long)r0 * g.IW, end = plane + (long)r1 * g.IW; l < end; l += 16) Sse.Prefetch0(l);
    }

    /// <summary>The permutation indices and window width the column taps need, built once per call.</summary>
    private readonly struct TapState(int kw)
    {
        public readonly Vector512<int> Even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        public readonly Vector512<int> Odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        public readonly int KW = kw;
    }

    /// <summary>The max over a window's rows of sixteen columns: rows <c>s, s + iw, …</c>, never NaN.</summary>
    private interface IRows
    {
        Vector512<float> Max(float* s, int iw, int kh);
    }

    /// <summary>How sixteen outputs' column taps are combined at one stride.</summary>
    private interface ITaps
    {
        int Stride { get; }
        Vector512<float> Max(float* s, TapState t);
    }

    private readonly struct Rows3 : IRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Max(float* s, int iw, int kh) =>
            Avx512F.Max(Vector512.Load(s + 2 * iw), Avx512F.Max(Vector512.Load(s + iw), Avx512F.Max(Vector512.Load(s), Vector512.Create(float.NegativeInfinity))));
    }

    private readonly struct RowsAny : IRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Max(float* s, int iw, int kh) => Rows(s, iw, kh);

        /// <summary>Starts from −∞: MAXPS returns its second operand (the running max) when either is NaN.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Rows(float* s, int iw, int count)
        {
            var m = Vector512.Create(float.NegativeInfinity);
            for (int r = 0; r < count; r++, s += iw) m = Avx512F.Max(Vector512.Load(s), m);
            return m;
        }
    }

    private readonly struct Stride1Taps : ITaps
    {
        public int Stride => 1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Max(float* s, TapState t)
        {
            var m = Vector512.Load(s);
            for (int kx = 1; kx < t.KW; kx++) m = Avx512F.Max(Vector512.Load(s + kx), m);
            return m;
        }
    }

    /// <summary>Stride 2, any width: taps kx and kx + 1 from one pair of loads.</summary>
    private readonly struct Stride2Taps : ITaps
    {
        public int Stride => 2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Max(float* s, TapState t)
        {
            var m = Vector512.Create(float.NegativeInfinity);
            for (int kx = 0; kx < t.KW; kx += 2)
            {
                var a = Vector512.Load(s + kx);
                var b = Vector512.Load(s + kx + 16);
                m = Avx512F.Max(Avx512F.PermuteVar16x32x2(a, t.Even, b), m);
                if (kx + 1 < t.KW) m = Avx512F.Max(Avx512F.PermuteVar16x32x2(a, t.Odd, b), m);
            }
            return m;
        }
    }

    /// <summary>Stride 2, three taps: the even and odd elements of the first pair, the even ones of the pair two further.</summary>
    private readonly struct Stride2Taps3 : ITaps
    {
        public int Stride => 2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Max(float* s, TapState t)
        {
            var a = Vector512.Load(s);
            var b = Vector512.Load(s + 16);
            var m = Avx512F.Max(Avx512F.PermuteVar16x32x2(a, t.Odd, b), Avx512F.PermuteVar16x32x2(a, t.Even, b));
            return Avx512F.Max(Avx512F.PermuteVar16x32x2(Vector512.Load(s + 2), t.Even, Vector512.Load(s + 18)), m);
        }
    }
}
