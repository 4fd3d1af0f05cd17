using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// float32 max and average pooling over 1-D/2-D planes, split across the worker pool by planes and
/// vectorized like <see cref="ConvDepthwise"/>: eight outputs of a row whose windows lie inside the row
/// are computed together from unaligned loads (stride 2: even elements of two loads); border outputs
/// one at a time. Same results as <see cref="PoolCore"/> (NaN never wins a max; averages divide by the
/// same counts).
/// </summary>
internal static unsafe class PoolFloat
{
    private const long MinWorkPerPart = 1 << 16;

    public static bool Supports(Conv3D g) => g.KD == 1 && g.SD == 1 && g.ID == 1 && g.OD == 1;

    /// <param name="padEndH">End padding of the height axis (for count_include_pad).</param>
    public static void Run(bool max, float* x, float* y, int planes, Conv3D g, bool countIncludePad, int padEndH, int padEndW, WorkerPool? pool)
    {
        long work = (long)planes * g.OutputSize * g.KernelSize;
        int parts = (int)Math.Max(1, Math.Min(Math.Min(planes, (pool?.Threads ?? 1) * 4L), work / MinWorkPerPart));
        var job = new Job(max, x, y, planes, parts, g, countIncludePad, padEndH, padEndW, GemmKernelSet.Current.IsAvx2OrBetter);
        if (parts == 1 || pool is null) for (int i = 0; i < parts; i++) job.Execute(i);
        else pool.Run(parts, job);
    }

    private readonly struct Job(bool max, float* x, float* y, int planes, int parts, Conv3D g, bool includePad, int padEndH, int padEndW, bool vector)
        : IParallelJob
    {
        public void Execute(int part)
        {
            int p0 = (int)((long)planes * part / parts), p1 = (int)((long)planes * (part + 1) / parts);
            Planes(max, x, y, p0, p1, g, includePad, padEndH, padEndW, vector);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Planes(bool max, float* x, float* y, int p0, int p1, Conv3D g, bool includePad, int padEndH, int padEndW, bool vector)
    {
        int inSize = g.InputSize, outSize = g.OutputSize;
        int oxLo = Math.Min(g.OW, (g.PW + g.SW - 1) / g.SW);
        int lastTap = (g.KW - 1) * g.LW - g.PW;
        int oxHi = g.IW - 1 - lastTap < 0 ? 0 : Math.Min(g.OW, (g.IW - 1 - lastTap) / g.SW + 1);
        if (oxHi < oxLo) oxHi = oxLo;
        int limit2 = g.IW - 2 - lastTap;
        int oxVec = g.SW == 1 ? oxHi : g.SW == 2 && limit2 >= 0 ? Math.Max(oxLo, Math.Min(oxHi, limit2 / 2 + 1)) : oxLo;
        bool vec = vector && Avx2.IsSupported;
        for (int p = p0; p < p1; p++)
        {
            float* xp = x + (long)p * inSize, yp = y + (long)p * outSize;
            for (int oy = 0; oy < g.OH; oy++)
            {
                float* yr = yp + oy * g.OW;
                int iy0 = oy * g.SH - g.PH, rows = 0;
                for (int ky = 0; ky < g.KH; ky++) if ((uint)(iy0 + ky * g.LH) < (uint)g.IH) rows++;
                // Interior windows read rows·KW elements; with count_include_pad the divisor also counts padding rows.
                int rowCount = includePad ? PoolCore.Covered(iy0, g.KH, g.LH, g.PH, g.IH + padEndH) : rows;
                float count = rowCount * g.KW;
                int ox = 0;
                for (; ox < oxLo; ox++) yr[ox] = Point(max, xp, g, iy0, ox, includePad, padEndH, padEndW);
                if (vec)
                    for (; ox + 8 <= oxVec; ox += 8)
                        Vector256.Store(Row8(max, xp, g, iy0, ox, count), yr + ox);
                for (; ox < g.OW; ox++) yr[ox] = Point(max, xp, g, iy0, ox, includePad, padEndH, padEndW);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row8(bool max, float* xp, Conv3D g, int iy0, int ox, float count)
    {
        var acc = max ? Vector256.Create(float.NegativeInfinity) : Vector256<float>.Zero;
        int ix0 = ox * g.SW - g.PW;
        for (int ky = 0; ky < g.KH; ky++)
        {
            int iy = iy0 + ky * g.LH;
            if ((uint)iy >= (uint)g.IH) continue;
            float* xr = xp + iy * g.IW + ix0;
            for (int kx = 0; kx < g.KW; kx++)
            {
                float* s = xr + kx * g.LW;
                var v = g.SW == 1 ? Vector256.Load(s) : ConvDepthwise.Even(Vector256.Load(s), Vector256.Load(s + 8));
                // MAXPS returns its second operand when either is NaN, so a NaN input never wins.
                acc = max ? Avx.Max(v, acc) : acc + v;
            }
        }
        return max ? acc : acc / Vector256.Create(count);
    }

    /// <summary>One output with bounds checks (border windows), as <see cref="PoolCore"/> computes it.</summary>
    private static float Point(bool max, float* xp, Conv3D g, int iy0, int ox, bool includePad, int padEndH, int padEndW)
    {
        int ix0 = ox * g.SW - g.PW, count = 0;
        float acc = max ? float.NegativeInfinity : 0;
        for (int ky = 0; ky < g.KH; ky++)
        {
            int iy = iy0 + ky * g.LH;
            if ((uint)iy >= (uint)g.IH) continue;
            float* xr = xp + iy * g.IW;
            for (int kx = 0; kx < g.KW; kx++)
            {
                int ix = ix0 + kx * g.LW;
                if ((uint)ix >= (uint)g.IW) continue;
                float v = xr[ix];
                if (max) { if (v > acc) acc = v; }
                else acc += v;
                count++;
            }
        }
        if (max) return acc;
        if (includePad) count = PoolCore.Covered(iy0, g.KH, g.LH, g.PH, g.IH + padEndH) * PoolCore.Covered(ix0, g.KW, g.LW, g.PW, g.IW + padEndW);
        return acc / count;
    }
}
