using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// 2-D max pooling without dilation as two 1-D passes per output row: the max over the window's rows, read
/// straight from the input rows (no bordered copy of the plane), into one bordered row (−∞ in the padding),
/// then the max over the window's columns of that row, eight outputs per vector (stride 2: even elements of two
/// loads). A 3×3 window then costs 3 + 3 vector steps per eight outputs instead of 9, and the plane copy is gone.
/// NaN never wins (MAXPS returns its second operand, the running max, when either is NaN), as in <see cref="PoolCore"/>.
/// </summary>
internal static unsafe class PoolMaxSeparable
{
    public static bool Supports(Conv3D g) => g.LH == 1 && g.LW == 1 && g.SW is 1 or 2 && g.IW >= 8 && Avx2.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Planes<TLoad>(float* x, float* y, int p0, int p1, Conv3D g) where TLoad : struct, ITapLoad
    {
        TLoad load = default;
        int iw = g.IW, ih = g.IH, ow = g.OW, pw = g.PW, kw = g.KW, sw = g.SW;
        int width = ConvPaddedPlane.Size(g).Width;
        float* row = GemmScratch.ForThread.Extra(width + 16);
        var lowest = Vector256.Create(float.NegativeInfinity);
        // The padding columns stay −∞; the input columns [pw, pw + iw) are rewritten for every output row.
        for (int c = 0; c < width + 16; c++) row[c] = float.NegativeInfinity;
        float* tmp = stackalloc float[8];
        for (int p = p0; p < p1; p++)
        {
            float* xp = x + (long)p * g.InputSize, yp = y + (long)p * g.OutputSize;
            for (int oy = 0; oy < g.OH; oy++)
            {
                int iy0 = oy * g.SH - g.PH, r0 = Math.Max(iy0, 0), r1 = Math.Min(iy0 + g.KH, ih);
                float* dst = row + pw;
                // Rows: eight columns at a time, the last vector shifted back to end at the row's end.
                for (int c = 0; c < iw; c += 8)
                {
                    int s = c + 8 <= iw ? c : iw - 8;
                    var m = lowest;
                    for (int r = r0; r < r1; r++) m = Avx.Max(Vector256.Load(xp + (long)r * iw + s), m);
                    Vector256.Store(m, dst + s);
                }
                float* yr = yp + oy * ow;
                if (ow < 8)
                {
                    Vector256.Store(Columns(load, row, kw), tmp);
                    for (int t = 0; t < ow; t++) yr[t] = tmp[t];
                    continue;
                }
                for (int ox = 0; ox < ow; ox += 8)
                {
                    int s = ConvPaddedPlane.VectorStart(ox, ow);
                    Vector256.Store(Columns(load, row + s * sw, kw), yr + s);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Columns<TLoad>(TLoad load, float* s, int kw) where TLoad : struct, ITapLoad
    {
        var m = Vector256.Create(float.NegativeInfinity);
        for (int kx = 0; kx < kw; kx++) m = Avx.Max(load.Load(s + kx), m);
        return m;
    }
}
