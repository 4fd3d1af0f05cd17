using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loom.Kernels.Common;

/// <summary>
/// Convolution by its definition, one output at a time: for float64, for the integer convolutions
/// (exact int32 sums) and for float32 groups too narrow for the GEMM path (depthwise convolution).
/// </summary>
internal static class ConvDirect
{
    /// <summary>
    /// y[n, m, o] = bias[m] + Σ_{c, k} x[n, g·Cg + c, o·s − p + k·l] · w[m, c, k] over the groups of
    /// <paramref name="group"/>; <paramref name="bias"/> may be empty. Only output channels
    /// [<paramref name="m0"/>, <paramref name="m1"/>) are written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias, Span<T> y,
        int batch, int channels, int outChannels, int group, Conv3D g, int m0 = 0, int m1 = -1) where T : INumberBase<T>
    {
        if (m1 < 0) m1 = outChannels;
        int cg = channels / group, mg = outChannels / group;
        int inSize = g.InputSize, outSize = g.OutputSize, ksize = g.KernelSize;
        for (int n = 0; n < batch; n++)
            for (int m = m0; m < m1; m++)
            {
                int gi = m / mg;
                var yo = y.Slice((n * outChannels + m) * outSize, outSize);
                T b = bias.IsEmpty ? T.Zero : bias[m];
                int o = 0;
                for (int oz = 0; oz < g.OD; oz++)
                    for (int oy = 0; oy < g.OH; oy++)
                        for (int ox = 0; ox < g.OW; ox++, o++)
                        {
                            T acc = b;
                            for (int c = 0; c < cg; c++)
                            {
                                var xc = x.Slice((n * channels + gi * cg + c) * inSize, inSize);
                                var wc = w.Slice((m * cg + c) * ksize, ksize);
                                int wi = 0;
                                for (int kz = 0; kz < g.KD; kz++)
                                {
                                    int iz = oz * g.SD - g.PD + kz * g.LD;
                                    if ((uint)iz >= (uint)g.ID) { wi += g.KH * g.KW; continue; }
                                    for (int ky = 0; ky < g.KH; ky++)
                                    {
                                        int iy = oy * g.SH - g.PH + ky * g.LH;
                                        if ((uint)iy >= (uint)g.IH) { wi += g.KW; continue; }
                                        int rowBase = (iz * g.IH + iy) * g.IW;
                                        for (int kx = 0; kx < g.KW; kx++, wi++)
                                        {
                                            int ix = ox * g.SW - g.PW + kx * g.LW;
                                            if ((uint)ix < (uint)g.IW) acc += xc[rowBase + ix] * wc[wi];
                                        }
                                    }
                                }
                            }
                            yo[o] = acc;
                        }
            }
    }
}
