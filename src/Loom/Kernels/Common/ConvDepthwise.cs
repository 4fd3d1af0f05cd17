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
        FusedActivation act, bool vector, ChannelTransform input = default)
    {
        bool vec = vector && Avx2.IsSupported;
        if (vec && ConvDepthwiseWide512.Supports(g)) ConvDepthwiseWide512.Run(x, w, bias, residual, y, channels, p0, p1, g, act, input);
        else if (ConvDepthwiseWide.Supports(g, vec)) ConvDepthwiseWide.Run(x, w, bias, residual, y, channels, p0, p1, g, act, input);
        else if (vec && ConvDepthwisePhases512.Supports(g)) ConvDepthwisePhases512.Run(x, w, bias, residual, y, channels, p0, p1, g, act, input);
        else if (vec && g.SW == 1) Planes<TapStride1>(x, w, bias, residual, y, channels, p0, p1, g, act, true, input);
        else if (vec && g.SW == 2) Planes<TapStride2>(x, w, bias, residual, y, channels, p0, p1, g, act, true, input);
        else Planes<TapStride1>(x, w, bias, residual, y, channels, p0, p1, g, act, false, input);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Planes<TLoad>(float* x, float* w, float* bias, float* residual, float* y, int channels, int p0, int p1, Conv3D g,
        FusedActivation act, bool vec, ChannelTransform input) where TLoad : struct, ITapLoad
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
            ConvPaddedPlane.Fill(x + input.Source(p, channels) * inSize, g, buf, rows, width, 0, !input.IsIdentity,
                input.IsIdentity ? 1 : input.Scale(c), input.IsIdentity ? 0 : input.Shift(c), input.Relu);
            if (vec && ow >= 8)
            {
                // Four output vectors per pass, anywhere in the plane: four independent FMA chains through the
                // taps (one chain would wait on the FMA latency). The last pass repeats its final vector.
                int nv = (ow + 7) / 8, total = g.OH * nv;
                for (int v = 0; v < total; v += 4)
                {
                    float* s0 = Source(buf, g, width, nv, v, total, out int d0), s1 = Source(buf, g, width, nv, v + 1, total, out int d1);
                    float* s2 = Source(buf, g, width, nv, v + 2, total, out int d2), s3 = Source(buf, g, width, nv, v + 3, total, out int d3);
                    var acc0 = Vector256.Create(b);
                    Vector256<float> acc1 = acc0, acc2 = acc0, acc3 = acc0;
                    float* wr = wc;
                    for (int ky = 0, off = 0; ky < kh; ky++, off += rowStep, wr += kw)
                        for (int kx = 0; kx < kw; kx++)
                        {
                            var wv = Vector256.Create(wr[kx]);
                            int o = off + kx * colStep;
                            acc0 = Fma.MultiplyAdd(load.Load(s0 + o), wv, acc0);
                            acc1 = Fma.MultiplyAdd(load.Load(s1 + o), wv, acc1);
                            acc2 = Fma.MultiplyAdd(load.Load(s2 + o), wv, acc2);
                            acc3 = Fma.MultiplyAdd(load.Load(s3 + o), wv, acc3);
                        }
                    Vector256.Store(acc0, yp + d0);
                    Vector256.Store(acc1, yp + d1);
                    Vector256.Store(acc2, yp + d2);
                    Vector256.Store(acc3, yp + d3);
                }
            }
            else
                for (int oy = 0; oy < g.OH; oy++)
                {
                    float* yr = yp + oy * ow, src = buf + oy * g.SH * width;
                    if (vec)
                    {
                        Vector256.Store(Window(load, src, wc, kh, kw, rowStep, colStep, b), tmp);
                        for (int t = 0; t < ow; t++) yr[t] = tmp[t];
                        continue;
                    }
                    for (int ox = 0; ox < ow; ox++)
                    {
                        float acc = b;
                        float* s = src + ox * sw, wr = wc;
                        for (int ky = 0; ky < kh; ky++, s += rowStep, wr += kw)
                            for (int kx = 0; kx < kw; kx++) acc += s[kx * colStep] * wr[kx];
                        yr[ox] = acc;
                    }
                }
            if (act.Kind != ActivationKind.None || residual != null)
                for (int oy = 0; oy < g.OH; oy++)
                    act.ApplyRow(yp + oy * ow, ow, 0, residual == null ? null : residual + (long)p * outSize + oy * ow);
        }
    }

    /// <summary>
    /// Where output vector <paramref name="v"/> of a plane (row v / nv, the (v mod nv)-th eight of the row,
    /// the last moved back to end at OW) reads its first tap, and where in the output plane it is stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Source(float* buf, Conv3D g, int width, int nv, int v, int total, out int store)
    {
        if (v >= total) v = total - 1;
        int oy = v / nv, ox = ConvPaddedPlane.VectorStart(v % nv * 8, g.OW);
        store = oy * g.OW + ox;
        return buf + oy * g.SH * width + ox * g.SW;
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
