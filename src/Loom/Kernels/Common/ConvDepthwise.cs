using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// Depthwise 2-D convolution (one input and one output channel per group) on NCHW planes. Each plane is
/// first copied into a zero-bordered scratch (<see cref="ConvPaddedPlane"/>), so eight outputs of a row
/// accumulate every tap in registers from unaligned loads with no bounds checks, borders included
/// (stride 2: even elements of two loads; other strides scalar). The epilogue (bias, residual,
/// activation) runs on each row while it is in L1.
/// </summary>
internal static unsafe class ConvDepthwise
{
    /// <summary>True when this path handles the geometry (2-D or 1-D; any padding and dilation).</summary>
    public static bool Supports(Conv3D g) => g.KD == 1 && g.SD == 1 && g.ID == 1;

    /// <summary>
    /// Planes [p0, p1) of y (plane p = image n, channel c, with c = p mod channels): y = act(conv + bias[c] + residual).
    /// </summary>
    public static void Run(float* x, float* w, float* bias, float* residual, float* y, int channels, int p0, int p1, Conv3D g,
        FusedActivation act, bool vector)
    {
        bool vec = vector && Avx2.IsSupported;
        if (vec && g.SW == 1) Planes<TapStride1>(x, w, bias, residual, y, channels, p0, p1, g, act, true);
        else if (vec && g.SW == 2) Planes<TapStride2>(x, w, bias, residual, y, channels, p0, p1, g, act, true);
        else Planes<TapStride1>(x, w, bias, residual, y, channels, p0, p1, g, act, false);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Planes<TLoad>(float* x, float* w, float* bias, float* residual, float* y, int channels, int p0, int p1, Conv3D g,
        FusedActivation act, bool vec) where TLoad : struct, ITapLoad
    {
        TLoad load = default;
        int inSize = g.InputSize, outSize = g.OutputSize, ks = g.KH * g.KW, ow = g.OW, kh = g.KH, kw = g.KW, sw = g.SW;
        var (rows, width) = ConvPaddedPlane.Size(g);
        int rowStep = g.LH * width, colStep = g.LW;
        float* buf = GemmScratch.ForThread.Extra(rows * width);
        float* tmp = stackalloc float[8];
        for (int p = p0; p < p1; p++)
        {
            int c = p % channels;
            float* yp = y + (long)p * outSize, wc = w + (long)c * ks;
            float b = bias == null ? 0 : bias[c];
            ConvPaddedPlane.Fill(x + (long)p * inSize, g, buf, rows, width, 0);
            for (int oy = 0; oy < g.OH; oy++)
            {
                float* yr = yp + oy * ow, src = buf + oy * g.SH * width;
                if (!vec)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        float acc = b;
                        float* s = src + ox * sw, wr = wc;
                        for (int ky = 0; ky < kh; ky++, s += rowStep, wr += kw)
                            for (int kx = 0; kx < kw; kx++) acc += s[kx * colStep] * wr[kx];
                        yr[ox] = acc;
                    }
                else if (ow < 8)
                {
                    Vector256.Store(Window(load, src, wc, kh, kw, rowStep, colStep, b), tmp);
                    for (int t = 0; t < ow; t++) yr[t] = tmp[t];
                }
                else
                    // Two vectors per pass: two independent FMA chains through the taps.
                    for (int ox = 0; ox < ow; ox += 16)
                    {
                        int s0 = ConvPaddedPlane.VectorStart(ox, ow), s1 = ConvPaddedPlane.VectorStart(Math.Min(ox + 8, ow - 8), ow);
                        var acc0 = Vector256.Create(b);
                        var acc1 = acc0;
                        float* a0 = src + s0 * sw, a1 = src + s1 * sw, wr = wc;
                        for (int ky = 0; ky < kh; ky++, a0 += rowStep, a1 += rowStep, wr += kw)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                var wv = Vector256.Create(wr[kx]);
                                acc0 = Fma.MultiplyAdd(load.Load(a0 + kx * colStep), wv, acc0);
                                acc1 = Fma.MultiplyAdd(load.Load(a1 + kx * colStep), wv, acc1);
                            }
                        Vector256.Store(acc0, yr + s0);
                        Vector256.Store(acc1, yr + s1);
                    }
                if (act.Kind != ActivationKind.None || residual != null)
                    act.ApplyRow(yr, ow, 0, residual == null ? null : residual + (long)p * outSize + oy * ow);
            }
        }
    }

    /// <summary>Eight outputs whose first window starts at <paramref name="s"/> (rows shorter than eight).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Window<TLoad>(TLoad load, float* s, float* wr, int kh, int kw, int rowStep, int colStep, float bias)
        where TLoad : struct, ITapLoad
    {
        var acc = Vector256.Create(bias);
        for (int ky = 0; ky < kh; ky++, s += rowStep, wr += kw)
            for (int kx = 0; kx < kw; kx++) acc = Fma.MultiplyAdd(load.Load(s + kx * colStep), Vector256.Create(wr[kx]), acc);
        return acc;
    }
}
