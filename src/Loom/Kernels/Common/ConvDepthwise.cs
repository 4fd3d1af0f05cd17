using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// Depthwise 2-D convolution (one input and one output channel per group) on NCHW planes, vectorized
/// along output rows: eight outputs of a row accumulate every tap in registers, read straight from the
/// input row (stride 1: one unaligned load; stride 2: two loads and an even-element shuffle). Outputs
/// whose window crosses the left or right border are computed one by one. The epilogue (bias,
/// residual, activation) runs on each row while it is in L1.
/// </summary>
internal static unsafe class ConvDepthwise
{
    /// <summary>True when this path handles the geometry (2-D or 1-D; any padding and dilation).</summary>
    public static bool Supports(Conv3D g) => g.KD == 1 && g.SD == 1 && g.ID == 1;

    /// <summary>
    /// Planes [p0, p1) of y (plane p = image n, channel c, with c = p mod channels): y = act(conv + bias[c] + residual).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* x, float* w, float* bias, float* residual, float* y, int channels, int p0, int p1, Conv3D g,
        FusedActivation act, bool vector)
    {
        int inSize = g.InputSize, outSize = g.OutputSize, ks = g.KH * g.KW;
        // Output columns [oxLo, oxHi) have their whole window inside the row, so need no bounds checks.
        int oxLo = Math.Min(g.OW, (g.PW + g.SW - 1) / g.SW);
        int lastTap = (g.KW - 1) * g.LW - g.PW;
        int oxHi = g.IW - 1 - lastTap < 0 ? 0 : Math.Min(g.OW, (g.IW - 1 - lastTap) / g.SW + 1);
        if (oxHi < oxLo) oxHi = oxLo;
        // At stride 2 the second load of the last tap reads one element past the window: keep it in the row.
        int limit2 = g.IW - 2 - lastTap;
        int oxVec = g.SW != 2 ? oxHi : limit2 < 0 ? oxLo : Math.Max(oxLo, Math.Min(oxHi, limit2 / 2 + 1));
        bool vec = vector && (g.SW == 1 || g.SW == 2) && Avx2.IsSupported;
        for (int p = p0; p < p1; p++)
        {
            int c = p % channels;
            float* xp = x + (long)p * inSize, yp = y + (long)p * outSize, wc = w + (long)c * ks;
            float b = bias == null ? 0 : bias[c];
            for (int oy = 0; oy < g.OH; oy++)
            {
                float* yr = yp + oy * g.OW;
                int iy0 = oy * g.SH - g.PH;
                int ox = 0;
                for (; ox < oxLo; ox++) yr[ox] = Point(xp, wc, g, iy0, ox, b);
                if (vec)
                    for (; ox + 8 <= oxVec; ox += 8)
                        Vector256.Store(g.SW == 1 ? Row8Stride1(xp, wc, g, iy0, ox, b) : Row8Stride2(xp, wc, g, iy0, ox, b), yr + ox);
                for (; ox < g.OW; ox++) yr[ox] = Point(xp, wc, g, iy0, ox, b);
                if (act.Kind != ActivationKind.None || residual != null)
                    act.ApplyRow(yr, g.OW, 0, residual == null ? null : residual + (long)p * outSize + oy * g.OW);
            }
        }
    }

    /// <summary>One output, with bounds checks on every tap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Point(float* xp, float* wc, Conv3D g, int iy0, int ox, float acc)
    {
        int ix0 = ox * g.SW - g.PW;
        for (int ky = 0; ky < g.KH; ky++)
        {
            int iy = iy0 + ky * g.LH;
            if ((uint)iy >= (uint)g.IH) continue;
            float* xr = xp + iy * g.IW;
            float* wr = wc + ky * g.KW;
            for (int kx = 0; kx < g.KW; kx++)
            {
                int ix = ix0 + kx * g.LW;
                if ((uint)ix < (uint)g.IW) acc += xr[ix] * wr[kx];
            }
        }
        return acc;
    }

    /// <summary>Outputs ox..ox+7 of a row at stride 1 (all inside horizontally).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row8Stride1(float* xp, float* wc, Conv3D g, int iy0, int ox, float bias)
    {
        var acc = Vector256.Create(bias);
        int ix0 = ox - g.PW;
        for (int ky = 0; ky < g.KH; ky++)
        {
            int iy = iy0 + ky * g.LH;
            if ((uint)iy >= (uint)g.IH) continue;
            float* xr = xp + iy * g.IW + ix0;
            float* wr = wc + ky * g.KW;
            for (int kx = 0; kx < g.KW; kx++)
                acc = Fma.MultiplyAdd(Vector256.Load(xr + kx * g.LW), Vector256.Create(wr[kx]), acc);
        }
        return acc;
    }

    /// <summary>Outputs ox..ox+7 of a row at stride 2: inputs 2·ox + tap, the even elements of two loads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row8Stride2(float* xp, float* wc, Conv3D g, int iy0, int ox, float bias)
    {
        var acc = Vector256.Create(bias);
        int ix0 = 2 * ox - g.PW;
        for (int ky = 0; ky < g.KH; ky++)
        {
            int iy = iy0 + ky * g.LH;
            if ((uint)iy >= (uint)g.IH) continue;
            float* xr = xp + iy * g.IW + ix0;
            float* wr = wc + ky * g.KW;
            for (int kx = 0; kx < g.KW; kx++)
            {
                float* s = xr + kx * g.LW;
                acc = Fma.MultiplyAdd(Even(Vector256.Load(s), Vector256.Load(s + 8)), Vector256.Create(wr[kx]), acc);
            }
        }
        return acc;
    }

    /// <summary>[a0 a2 a4 a6 b0 b2 b4 b6]: eight stride-2 elements from two loads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Even(Vector256<float> a, Vector256<float> b) =>
        Avx2.Permute4x64(Avx.Shuffle(a, b, 0x88).AsDouble(), 0xD8).AsSingle();
}
