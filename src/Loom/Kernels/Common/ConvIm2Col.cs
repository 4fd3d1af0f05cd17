using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// Window geometry with 1-D and 2-D convolutions lifted to 3-D (leading axes of size 1), so one
/// im2col/col2im walks every case. Sizes: I input, K kernel, S stride, L dilation, P begin pad, O output.
/// </summary>
internal readonly struct Conv3D
{
    public readonly int ID, IH, IW, KD, KH, KW, SD, SH, SW, LD, LH, LW, PD, PH, PW, OD, OH, OW;

    public Conv3D(ConvGeometry g)
    {
        int r = g.Rank;
        if (r is < 1 or > 3) throw new ArgumentException("Conv3D handles 1 to 3 spatial axes");
        int At(int[] v, int axis, int fill) => axis - (3 - r) is var i && i >= 0 ? v[i] : fill;
        ID = At(g.Input, 0, 1); IH = At(g.Input, 1, 1); IW = At(g.Input, 2, 1);
        KD = At(g.Kernel, 0, 1); KH = At(g.Kernel, 1, 1); KW = At(g.Kernel, 2, 1);
        SD = At(g.Stride, 0, 1); SH = At(g.Stride, 1, 1); SW = At(g.Stride, 2, 1);
        LD = At(g.Dilation, 0, 1); LH = At(g.Dilation, 1, 1); LW = At(g.Dilation, 2, 1);
        PD = At(g.PadBegin, 0, 0); PH = At(g.PadBegin, 1, 0); PW = At(g.PadBegin, 2, 0);
        OD = At(g.Output, 0, 1); OH = At(g.Output, 1, 1); OW = At(g.Output, 2, 1);
    }

    public int InputSize => ID * IH * IW;
    public int OutputSize => OD * OH * OW;
    public int KernelSize => KD * KH * KW;

    /// <summary>True when im2col is the identity (1×1 kernel, unit strides, no padding).</summary>
    public bool IsPointwise => KernelSize == 1 && SD == 1 && SH == 1 && SW == 1 && PD == 0 && PH == 0 && PW == 0
        && OD == ID && OH == IH && OW == IW;
}

/// <summary>
/// The im2col matrix of one image and group as a GEMM right operand, packed straight from the image
/// (implicit GEMM): row r = (channel, kz, ky, kx), column j = output position (oz, oy, ox), value
/// x[c, oz·s + kz·l − p, …] or 0 in the padding. No im2col buffer is ever materialized.
/// </summary>
internal readonly unsafe struct ConvIm2ColB(float* x, Conv3D g) : IGemmB
{
    public float* Packed(int k0, int kc, int j0) => null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dest, int k0, int kc, int j0, int nc, int nr)
    {
        // Each panel of nr output columns is cut into runs that stay on one output row (oz, oy).
        int* segOz = stackalloc int[nr], segOy = stackalloc int[nr], segOx = stackalloc int[nr];
        int* segLen = stackalloc int[nr], segLane = stackalloc int[nr];
        int ohw = g.OH * g.OW, ksize = g.KernelSize, khw = g.KH * g.KW, inSize = g.InputSize;
        for (int c0 = 0; c0 < nc; c0 += nr, dest += kc * nr)
        {
            int cols = Math.Min(nr, nc - c0), segs = 0;
            int j = j0 + c0, oz = j / ohw, oy = j % ohw / g.OW, ox = j % g.OW;
            for (int lane = 0; lane < cols;)
            {
                int len = Math.Min(g.OW - ox, cols - lane);
                segOz[segs] = oz; segOy[segs] = oy; segOx[segs] = ox; segLen[segs] = len; segLane[segs] = lane;
                segs++;
                lane += len;
                ox = 0;
                if (++oy == g.OH) { oy = 0; oz++; }
            }
            int row = k0, c = row / ksize, kz = row % ksize / khw, ky = row % khw / g.KW, kx = row % g.KW;
            for (int k = 0; k < kc; k++)
            {
                float* d = dest + k * nr;
                for (int t = cols; t < nr; t++) d[t] = 0;
                float* xc = x + (long)c * inSize;
                for (int s = 0; s < segs; s++)
                    PackRun(d + segLane[s], segLen[s], xc, segOz[s] * g.SD + kz * g.LD - g.PD,
                        segOy[s] * g.SH + ky * g.LH - g.PH, segOx[s] * g.SW + kx * g.LW - g.PW);
                if (++kx == g.KW) { kx = 0; if (++ky == g.KH) { ky = 0; if (++kz == g.KD) { kz = 0; c++; } } }
            }
        }
    }

    /// <summary>Writes <paramref name="len"/> values of input row (iz, iy) from column ix0 on, stepping by the stride, zero outside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PackRun(float* d, int len, float* xc, int iz, int iy, int ix0)
    {
        if ((uint)iz >= (uint)g.ID || (uint)iy >= (uint)g.IH)
        {
            new Span<float>(d, len).Clear();
            return;
        }
        float* src = xc + ((long)iz * g.IH + iy) * g.IW;
        int sw = g.SW;
        // Valid t: 0 <= ix0 + t*sw < IW. Strides 1 and 2 avoid the divisions, which cost more than the copy.
        int lo, hi;
        if (sw == 1) { lo = Math.Clamp(-ix0, 0, len); hi = Math.Clamp(g.IW - ix0, lo, len); }
        else if (sw == 2) { lo = Math.Clamp((1 - ix0) >> 1, 0, len); hi = Math.Clamp((g.IW - ix0 + 1) >> 1, lo, len); }
        else
        {
            lo = ix0 >= 0 ? 0 : Math.Min(len, (-ix0 + sw - 1) / sw);
            hi = ix0 >= g.IW ? 0 : Math.Min(len, (g.IW - 1 - ix0) / sw + 1);
            if (hi < lo) hi = lo;
        }
        int t = 0;
        for (; t < lo; t++) d[t] = 0;
        float* s = src + ix0;
        if (sw == 1)
        {
            // Runs are short (at most NR): inline vector copies beat a memmove call.
            if (Vector256.IsHardwareAccelerated)
                for (; t + 8 <= hi; t += 8) Vector256.Store(Vector256.Load(s + t), d + t);
            for (; t < hi; t++) d[t] = s[t];
        }
        else if (sw == 2)
        {
            // Eight stride-2 elements from two loads; the second load reads one element past the last one used.
            if (Avx2.IsSupported)
                for (; t + 8 <= hi && ix0 + 2 * t + 16 <= g.IW; t += 8)
                    Vector256.Store(ConvPaddedPlane.Even(Vector256.Load(s + 2 * t), Vector256.Load(s + 2 * t + 8)), d + t);
            for (; t < hi; t++) d[t] = s[2 * t];
        }
        else
            for (; t < hi; t++) d[t] = s[t * sw];
        for (; t < len; t++) d[t] = 0;
    }
}

/// <summary>col2im, the adjoint of im2col: scatters-adds a column matrix back onto an image (ConvTranspose).</summary>
internal static unsafe class ConvCol2Im
{
    /// <summary>
    /// For rows r = (channel, kz, ky, kx) of <paramref name="col"/> (row stride <paramref name="ldcol"/>)
    /// and its columns, which are positions [j0, j0+nc) of the small grid (g.O*), adds col[r, j] to
    /// image[channel, o·s − p + k·l] where that lies inside the image (g.I*).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* col, int ldcol, int channels, int j0, int nc, float* image, Conv3D g)
    {
        int ohw = g.OH * g.OW, inSize = g.InputSize;
        for (int c = 0; c < channels; c++)
        {
            float* img = image + (long)c * inSize;
            for (int kz = 0; kz < g.KD; kz++)
                for (int ky = 0; ky < g.KH; ky++)
                    for (int kx = 0; kx < g.KW; kx++, col += ldcol)
                    {
                        int j = j0, end = j0 + nc;
                        while (j < end)
                        {
                            int oz = j / ohw, oy = j % ohw / g.OW, ox = j % g.OW;
                            int len = Math.Min(g.OW - ox, end - j);
                            int iz = oz * g.SD - g.PD + kz * g.LD, iy = oy * g.SH - g.PH + ky * g.LH;
                            if ((uint)iz < (uint)g.ID && (uint)iy < (uint)g.IH)
                            {
                                float* src = col + (j - j0);
                                int ix0 = ox * g.SW - g.PW + kx * g.LW;
                                float* dst = img + ((long)iz * g.IH + iy) * g.IW + ix0;
                                // Valid t: 0 <= ix0 + t·SW < IW, found once per run instead of checked per element.
                                int lo = ix0 >= 0 ? 0 : Math.Min(len, (-ix0 + g.SW - 1) / g.SW);
                                int hi = ix0 >= g.IW ? 0 : Math.Min(len, (g.IW - 1 - ix0) / g.SW + 1);
                                int t = lo;
                                if (g.SW == 1)
                                    for (; t + 8 <= hi; t += 8) Vector256.Store(Vector256.Load(dst + t) + Vector256.Load(src + t), dst + t);
                                for (; t < hi; t++) dst[(long)t * g.SW] += src[t];
                            }
                            j += len;
                        }
                    }
        }
    }

    /// <summary>
    /// True when every image element gets exactly one column value: stride = kernel on every axis, no dilation or
    /// padding, and the image is exactly stride × positions (ConvTranspose 2×2 stride 2 upsampling). Then
    /// <see cref="Place"/> writes instead of adding, and the image needs no clearing.
    /// </summary>
    public static bool IsPartition(Conv3D g) =>
        g.SD == g.KD && g.SH == g.KH && g.SW == g.KW && g.LD == 1 && g.LH == 1 && g.LW == 1 && g.PD == 0 && g.PH == 0 && g.PW == 0
        && g.ID == g.OD * g.SD && g.IH == g.OH * g.SH && g.IW == g.OW * g.SW;

    /// <summary><see cref="Add"/> for an <see cref="IsPartition"/> geometry: image[c, o·k + t] = col[(c, t), o]; kernel width 2 interleaves by vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Place(float* col, int ldcol, int channels, int j0, int nc, float* image, Conv3D g)
    {
        int ohw = g.OH * g.OW, inSize = g.InputSize, ksize = g.KernelSize;
        bool pairs = g.KW == 2 && Avx.IsSupported;
        for (int c = 0; c < channels; c++, col += (long)ksize * ldcol)
        {
            float* img = image + (long)c * inSize;
            for (int kz = 0; kz < g.KD; kz++)
                for (int ky = 0; ky < g.KH; ky++)
                {
                    float* rows = col + (long)((kz * g.KH + ky) * g.KW) * ldcol;
                    int j = j0, end = j0 + nc;
                    while (j < end)
                    {
                        int oz = j / ohw, oy = j % ohw / g.OW, ox = j % g.OW;
                        int len = Math.Min(g.OW - ox, end - j);
                        float* dst = img + ((long)(oz * g.KD + kz) * g.IH + oy * g.KH + ky) * g.IW + (long)ox * g.KW;
                        float* src = rows + (j - j0);
                        int t = 0;
                        if (pairs)
                            for (; t + 8 <= len; t += 8)
                            {
                                // [a0 b0 a1 b1 … a7 b7] from row kx = 0 (a) and kx = 1 (b).
                                var a = Vector256.Load(src + t);
                                var b = Vector256.Load(src + ldcol + t);
                                var lo = Avx.UnpackLow(a, b);
                                var hi = Avx.UnpackHigh(a, b);
                                Vector256.Store(Avx.Permute2x128(lo, hi, 0x20), dst + 2 * t);
                                Vector256.Store(Avx.Permute2x128(lo, hi, 0x31), dst + 2 * t + 8);
                            }
                        for (; t < len; t++)
                            for (int kx = 0; kx < g.KW; kx++) dst[(long)t * g.KW + kx] = src[(long)kx * ldcol + t];
                        j += len;
                    }
                }
        }
    }
}
