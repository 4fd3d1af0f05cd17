using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loom.Kernels.Common;

/// <summary>
/// Sliding-window pooling over planes (one per batch item and channel), 1-D to 3-D through
/// <see cref="Conv3D"/>. A window covers positions o·s − p + k·d; only those inside the input are read.
/// </summary>
internal static class PoolCore
{
    /// <summary>
    /// Max pooling; NaN never wins (as in ONNX Runtime). <paramref name="indices"/>, when not empty, gets
    /// the flat index of each maximum in X (row-major, or column-major over the spatial axes when
    /// <paramref name="columnMajor"/>), the first one on ties.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max<T>(ReadOnlySpan<T> x, Span<T> y, Span<long> indices, int planes, Conv3D g, bool columnMajor)
        where T : INumber<T>, IMinMaxValue<T>
    {
        int inSize = g.InputSize, outSize = g.OutputSize;
        T lowest = typeof(T) == typeof(float) ? T.CreateTruncating(float.NegativeInfinity)
            : typeof(T) == typeof(double) ? T.CreateTruncating(double.NegativeInfinity) : T.MinValue;
        for (int pl = 0; pl < planes; pl++)
        {
            var xp = x.Slice(pl * inSize, inSize);
            int o = pl * outSize;
            for (int oz = 0; oz < g.OD; oz++)
                for (int oy = 0; oy < g.OH; oy++)
                    for (int ox = 0; ox < g.OW; ox++, o++)
                    {
                        T best = lowest;
                        int bestAt = -1;
                        for (int kz = 0; kz < g.KD; kz++)
                        {
                            int iz = oz * g.SD - g.PD + kz * g.LD;
                            if ((uint)iz >= (uint)g.ID) continue;
                            for (int ky = 0; ky < g.KH; ky++)
                            {
                                int iy = oy * g.SH - g.PH + ky * g.LH;
                                if ((uint)iy >= (uint)g.IH) continue;
                                int row = (iz * g.IH + iy) * g.IW;
                                for (int kx = 0; kx < g.KW; kx++)
                                {
                                    int ix = ox * g.SW - g.PW + kx * g.LW;
                                    if ((uint)ix >= (uint)g.IW) continue;
                                    T v = xp[row + ix];
                                    if (v > best || bestAt < 0)
                                    {
                                        // The first element read stands in for the index until a larger value comes.
                                        if (v > best) best = v;
                                        bestAt = columnMajor ? iz + g.ID * (iy + g.IH * ix) : row + ix;
                                    }
                                }
                            }
                        }
                        y[o] = best;
                        if (!indices.IsEmpty) indices[o] = (long)pl * inSize + Math.Max(bestAt, 0);
                    }
        }
    }

    /// <summary>
    /// Average (<paramref name="p"/> = 0) or Lp pooling. The average divides by the elements read, or with
    /// <paramref name="countIncludePad"/> by the window positions inside the padded input. Lp pooling is
    /// (Σ |x|^p)^(1/p) over the elements read (padding counts as 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageOrLp<T>(ReadOnlySpan<T> x, Span<T> y, int planes, Conv3D g, bool countIncludePad, int padEndD, int padEndH, int padEndW, double p)
        where T : IFloatingPointIeee754<T>
    {
        int inSize = g.InputSize, outSize = g.OutputSize;
        T pp = T.CreateTruncating(p), invP = T.One / pp;
        for (int pl = 0; pl < planes; pl++)
        {
            var xp = x.Slice(pl * inSize, inSize);
            int o = pl * outSize;
            for (int oz = 0; oz < g.OD; oz++)
                for (int oy = 0; oy < g.OH; oy++)
                    for (int ox = 0; ox < g.OW; ox++, o++)
                    {
                        T sum = T.Zero;
                        int count = 0;
                        for (int kz = 0; kz < g.KD; kz++)
                        {
                            int iz = oz * g.SD - g.PD + kz * g.LD;
                            if ((uint)iz >= (uint)g.ID) continue;
                            for (int ky = 0; ky < g.KH; ky++)
                            {
                                int iy = oy * g.SH - g.PH + ky * g.LH;
                                if ((uint)iy >= (uint)g.IH) continue;
                                int row = (iz * g.IH + iy) * g.IW;
                                for (int kx = 0; kx < g.KW; kx++)
                                {
                                    int ix = ox * g.SW - g.PW + kx * g.LW;
                                    if ((uint)ix >= (uint)g.IW) continue;
                                    T v = xp[row + ix];
                                    sum += p == 0 ? v : p == 1 ? T.Abs(v) : p == 2 ? v * v : T.Pow(T.Abs(v), pp);
                                    count++;
                                }
                            }
                        }
                        if (p != 0)
                            y[o] = p == 1 ? sum : p == 2 ? T.Sqrt(sum) : T.Pow(sum, invP);
                        else
                        {
                            if (countIncludePad)
                                count = Covered(oz * g.SD - g.PD, g.KD, g.LD, g.PD, g.ID + padEndD)
                                    * Covered(oy * g.SH - g.PH, g.KH, g.LH, g.PH, g.IH + padEndH)
                                    * Covered(ox * g.SW - g.PW, g.KW, g.LW, g.PW, g.IW + padEndW);
                            y[o] = sum / T.CreateTruncating(count);
                        }
                    }
        }
    }

    /// <summary>How many of the k taps start, start+d, … lie in [−padBegin, limit).</summary>
    public static int Covered(int start, int k, int d, int padBegin, int limit)
    {
        int n = 0;
        for (int t = 0, pos = start; t < k; t++, pos += d)
            if (pos >= -padBegin && pos < limit) n++;
        return n;
    }
}
