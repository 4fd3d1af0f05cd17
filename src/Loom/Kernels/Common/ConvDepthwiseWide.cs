using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// Stride-1 depthwise convolution with the "wide" trick of <see cref="ConvWideGemm"/>: each plane is
/// copied into a zero-bordered buffer of Hp×Wp, and output j = oy·Wp + ox reads buffer[j + ky·LH·Wp + kx·LW],
/// so consecutive outputs — across row ends too — read consecutive inputs. Sixty-four outputs at a time
/// then keep eight independent FMA chains busy with one pointer and constant displacements (a row-by-row
/// loop runs out of registers and waits on FMA latency). The Wp − OW columns past each row are computed
/// into scratch and dropped when the rows are copied to Y with the epilogue.
/// </summary>
internal static unsafe class ConvDepthwiseWide
{
    private const int Block = 64;

    public static bool Supports(Conv3D g, bool vector) =>
        vector && Fma.IsSupported && g.SH == 1 && g.SW == 1 && g.KD == 1 && g.ID == 1;

    /// <summary>Planes [p0, p1) of y (channel c = p mod channels): y = act(conv + bias[c] + residual).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* x, float* w, float* bias, float* residual, float* y, int channels, int p0, int p1, Conv3D g, FusedActivation act,
        ChannelTransform input)
    {
        int hp = g.OH + (g.KH - 1) * g.LH, wp = g.OW + (g.KW - 1) * g.LW, taps = g.KH * g.KW;
        int wideN = g.OH * wp, reach = (g.KH - 1) * g.LH * wp + (g.KW - 1) * g.LW;
        // The last block reads up to Block − 1 columns past the plane's last wide output: zero slack covers them.
        int planeFloats = hp * wp + Block + (g.KW - 1) * g.LW + 8;
        float* plane = GemmScratch.ForThread.Extra(planeFloats + wideN + Block);
        float* wide = plane + planeFloats;
        new Span<float>(plane + hp * wp, planeFloats - hp * wp).Clear();
        int* offsets = stackalloc int[taps];
        TapOffsets(g, wp, offsets);
        // The activation goes into the block kernel unless a residual must be added first (then it is applied per row).
        GemmTileEpilogue ep = default;
        bool inKernel = residual == null && act.ToTile(ref ep);
        if (!inKernel) ep.Mode = TileActivation.None;
        bool afterwards = !inKernel && (act.Kind != ActivationKind.None || residual != null);
        for (int p = p0; p < p1; p++)
        {
            int c = p % channels;
            ConvPaddedPlane.Fill(x + input.Source(p, channels) * g.InputSize, g, plane, hp, wp, 0, !input.IsIdentity,
                input.IsIdentity ? 1 : input.Scale(c), input.IsIdentity ? 0 : input.Shift(c), input.Relu);
            float b = bias == null ? 0 : bias[c];
            for (int j = 0; j < wideN; j += Block) Block64(plane + j, offsets, w + (long)c * taps, taps, b, wide + j, &ep);
            float* yp = y + (long)p * g.OutputSize;
            for (int oy = 0; oy < g.OH; oy++)
            {
                float* src = wide + oy * wp, dst = yp + oy * g.OW;
                int q = 0;
                for (; q + 8 <= g.OW; q += 8) Vector256.Store(Vector256.Load(src + q), dst + q);
                for (; q < g.OW; q++) dst[q] = src[q];
                if (afterwards) act.ApplyRow(dst, g.OW, 0, residual == null ? null : residual + (long)p * g.OutputSize + oy * g.OW);
            }
        }
    }

    /// <summary>Where tap t of output j reads in a padded plane of rows <paramref name="wp"/> wide: j + offsets[t].</summary>
    internal static void TapOffsets(Conv3D g, int wp, int* offsets)
    {
        for (int ky = 0, t = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++, t++) offsets[t] = ky * g.LH * wp + kx * g.LW;
    }

    /// <summary>out[0..64) = act(bias + Σ_t w[t] · src[offsets[t] + 0..64)): eight accumulators, call-free.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Block64(float* src, int* offsets, float* w, int taps, float bias, float* dst, GemmTileEpilogue* ep)
    {
        var a0 = Vector256.Create(bias);
        Vector256<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int t = 0; t < taps; t++)
        {
            float* s = src + offsets[t];
            var wv = Vector256.Create(w[t]);
            a0 = Fma.MultiplyAdd(Vector256.Load(s), wv, a0);
            a1 = Fma.MultiplyAdd(Vector256.Load(s + 8), wv, a1);
            a2 = Fma.MultiplyAdd(Vector256.Load(s + 16), wv, a2);
            a3 = Fma.MultiplyAdd(Vector256.Load(s + 24), wv, a3);
            a4 = Fma.MultiplyAdd(Vector256.Load(s + 32), wv, a4);
            a5 = Fma.MultiplyAdd(Vector256.Load(s + 40), wv, a5);
            a6 = Fma.MultiplyAdd(Vector256.Load(s + 48), wv, a6);
            a7 = Fma.MultiplyAdd(Vector256.Load(s + 56), wv, a7);
        }
        int mode = (int)ep->Mode;
        if (mode != (int)TileActivation.None)
        {
            var f = new TileFinish256(ep);
            a0 = f.Activate(a0); a1 = f.Activate(a1);
            a2 = f.Activate(a2); a3 = f.Activate(a3);
            a4 = f.Activate(a4); a5 = f.Activate(a5);
            a6 = f.Activate(a6); a7 = f.Activate(a7);
        }
        a0.Store(dst); a1.Store(dst + 8); a2.Store(dst + 16); a3.Store(dst + 24);
        a4.Store(dst + 32); a5.Store(dst + 40); a6.Store(dst + 48); a7.Store(dst + 56);
    }
}
