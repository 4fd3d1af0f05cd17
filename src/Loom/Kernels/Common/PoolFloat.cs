using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// float32 max and average pooling over 1-D/2-D planes, split across the worker pool by planes and
/// vectorized like <see cref="ConvDepthwise"/>: each plane is copied into a bordered scratch (−∞ for max,
/// 0 for average; <see cref="ConvPaddedPlane"/>), then eight outputs of a row are computed together from
/// unaligned loads (stride 2: even elements of two loads), borders included. Same results as
/// <see cref="PoolCore"/>: NaN never wins a max; averages add the same elements in the same order
/// (padding adds zeros) and divide by the same counts.
/// </summary>
internal static unsafe class PoolFloat
{
    private const long MinWorkPerPart = 1 << 16;

    public static bool Supports(Conv3D g) => g.KD == 1 && g.SD == 1 && g.ID == 1 && g.OD == 1;

    /// <param name="padEndH">End padding of the height axis (for count_include_pad).</param>
    public static void Run(bool max, float* x, float* y, int planes, Conv3D g, bool countIncludePad, int padEndH, int padEndW, WorkerPool? pool)
    {
        if (g.OutputSize == 1 && g.LH == 1 && g.LW == 1 && g.KH - g.PH >= g.IH && g.KW - g.PW >= g.IW && (max || !countIncludePad))
        {
            // The window covers the whole plane (a global pool spelled as a plain one, e.g. Inception's 7×7 average over a
            // 6×6 plane with ceil_mode): one reduction per plane; the padding adds nothing and, without count_include_pad,
            // is not counted.
            WholePlanes(max, x, y, planes, g.InputSize);
            return;
        }
        long work = (long)planes * g.OutputSize * g.KernelSize;
        long maxParts = Math.Max(1, Math.Min((pool?.Threads ?? 1) * 4L, work / MinWorkPerPart));
        var set = GemmKernelSet.Current;
        bool avx512 = max && ReferenceEquals(set, GemmKernelSet.Avx512);
        bool same = avx512 && PoolMaxSame512.Supports(g);
        bool wide = avx512 && !same && PoolMaxSeparable512.Supports(g);
        bool averageWide = !max && ReferenceEquals(set, GemmKernelSet.Avx512) && AverageWide(g);
        if (wide && maxParts > 1 && pool is { Threads: > 1 } && g.OW >= 16 && planes < maxParts)
        {
            // Bands of output rows across every plane, only where there are too few planes to share out: a band visits every
            // plane for a few rows, so each visit starts with cache misses the prefetcher cannot foresee (a jump of a whole
            // plane), and neighbouring bands write the same line of every plane. SqueezeNet's 128×55×55 -> 27×27 pool in bands
            // took 190–210 µs of CPU in its parts on two threads against 100–105 by planes (0.07 on one thread).
            // Not for output rows narrower than a cache line: two bands would then write the same line in every plane
            // (Inception's 27×27 -> 13×13 pool took 95 µs on two threads by bands, 59 on one).
            var bands = new BandJob(x, y, planes, (int)Math.Min(maxParts, g.OH), g);
            pool.Run(bands.Parts, bands);
            return;
        }
        int parts = (int)Math.Min(planes, maxParts);
        bool interleaved = averageWide && ConvDepthwiseInterleaved512.SupportsPool(g);
        var job = new Job(max, x, y, planes, parts, g, countIncludePad, padEndH, padEndW, set.IsAvx2OrBetter, wide, same, averageWide, interleaved);
        if (parts == 1 || pool is null) for (int i = 0; i < parts; i++) job.Execute(i);
        else pool.Run(parts, job);
    }

    /// <summary>y[p] = max or mean of plane p; NaN never wins the max (as in PoolCore), the sum is vectorized (eight partial sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WholePlanes(bool max, float* x, float* y, int planes, int size)
    {
        for (int p = 0; p < planes; p++)
        {
            float* s = x + (long)p * size;
            if (!max)
            {
                var acc = Vector256<float>.Zero;
                int i = 0;
                for (; i + 8 <= size; i += 8) acc += Vector256.Load(s + i);
                float sum = Vector256.Sum(acc);
                for (; i < size; i++) sum += s[i];
                y[p] = sum / size;
                continue;
            }
            float best = float.NegativeInfinity;
            for (int i = 0; i < size; i++) if (s[i] > best) best = s[i];
            y[p] = best;
        }
    }

    /// <param name="wide">Max pooling by <see cref="PoolMaxSeparable512"/>: the AVX-512 kernel set is in use (tests force the narrower ones) and the geometry fits.</param>
    /// <param name="same">Max pooling by <see cref="PoolMaxSame512"/> (stride 1, output plane = input plane, AVX-512).</param>
    /// <param name="averageWide">Average pooling by the 16-wide depthwise kernels with weights of 1 (<see cref="AverageWide"/>).</param>
    /// <param name="interleaved">... by <see cref="ConvDepthwiseInterleaved512"/>, sixteen planes at a time (parts start on block boundaries).</param>
    private readonly struct Job(bool max, float* x, float* y, int planes, int parts, Conv3D g, bool includePad, int padEndH, int padEndW, bool vector, bool wide,
        bool same, bool averageWide, bool interleaved)
        : IParallelJob
    {
        public void Execute(int part)
        {
            int p0 = (int)((long)planes * part / parts), p1 = (int)((long)planes * (part + 1) / parts);
            if (interleaved) (p0, p1) = (ConvDepthwiseInterleaved512.PartStart(planes, part, parts), ConvDepthwiseInterleaved512.PartStart(planes, part + 1, parts));
            bool vec = vector && Avx2.IsSupported;
            if (averageWide) Average512(x, y, p0, p1, g, includePad, padEndH, padEndW, interleaved);
            else if (same) PoolMaxSame512.Planes(x, y, planes, p0, p1, g);
            else if (wide) PoolMaxSeparable512.Planes(x, y, p0, p1, 0, g.OH, g);
            else if (max && vec && PoolMaxSeparable.Supports(g))
            {
                if (g.SW == 1) PoolMaxSeparable.Planes<TapStride1>(x, y, p0, p1, g);
                else PoolMaxSeparable.Planes<TapStride2>(x, y, p0, p1, g);
            }
            else if (max && vec && g.SW == 1) Planes<MaxOp, TapStride1>(x, y, p0, p1, g, includePad, padEndH, padEndW, true);
            else if (max && vec && g.SW == 2) Planes<MaxOp, TapStride2>(x, y, p0, p1, g, includePad, padEndH, padEndW, true);
            else if (max) Planes<MaxOp, TapStride1>(x, y, p0, p1, g, includePad, padEndH, padEndW, false);
            else if (vec && g.SW == 1) Planes<SumOp, TapStride1>(x, y, p0, p1, g, includePad, padEndH, padEndW, true);
            else if (vec && g.SW == 2) Planes<SumOp, TapStride2>(x, y, p0, p1, g, includePad, padEndH, padEndW, true);
            else Planes<SumOp, TapStride1>(x, y, p0, p1, g, includePad, padEndH, padEndW, false);
        }
    }

    /// <summary>Part q: output rows [OH·q/parts, OH·(q+1)/parts) of every plane (AVX-512 max pooling).</summary>
    private readonly struct BandJob(float* x, float* y, int planes, int parts, Conv3D g) : IParallelJob
    {
        public int Parts => parts;

        public void Execute(int part) =>
            PoolMaxSeparable512.Planes(x, y, 0, planes, (int)((long)g.OH * part / parts), (int)((long)g.OH * (part + 1) / parts), g);
    }

    /// <summary>
    /// Average pools the AVX-512 depthwise kernels take (stride 1, or stride 2 undilated; output rows that fit the stack's
    /// divisor arrays). Inception v2's 3×3 stride-1 average pools took 0.13 ms per 576×14×14 plane set on the 8-wide
    /// kernel below against ONNX Runtime's 0.03.
    /// </summary>
    private static bool AverageWide(Conv3D g) =>
        g.OH + g.OW <= 4096 && (ConvDepthwiseWide512.Supports(g) || ConvDepthwisePhases512.Supports(g));

    /// <summary>
    /// Planes [p0, p1) as a depthwise convolution with weights of 1 and no bias, then the division: the same sums in the
    /// same order (0, then the taps row by row, the padding adding zeros) and the same divisors as <see cref="Planes"/>.
    /// </summary>
    private static void Average512(float* x, float* y, int p0, int p1, Conv3D g, bool includePad, int padEndH, int padEndW, bool interleaved)
    {
        int taps = g.KH * g.KW;
        float* ones = stackalloc float[taps];
        for (int t = 0; t < taps; t++) ones[t] = 1;
        float* rows = stackalloc float[g.OH + g.OW + 16];
        float* cols = rows + g.OH;
        for (int oy = 0; oy < g.OH; oy++) rows[oy] = Count(oy * g.SH - g.PH, g.KH, g.LH, g.PH, g.IH, padEndH, includePad);
        for (int ox = 0; ox < g.OW + 16; ox++) cols[ox] = ox < g.OW ? Count(ox * g.SW - g.PW, g.KW, g.LW, g.PW, g.IW, padEndW, includePad) : 1;
        var divisor = new PoolDivisor(rows, cols);
        if (interleaved) ConvDepthwiseInterleaved512.Run(x, ones, null, null, y, 1, p0, p1, g, default, default, divisor);
        else if (g.SH == 1) ConvDepthwiseWide512.Run(x, ones, null, null, y, 1, p0, p1, g, default, default, divisor);
        else ConvDepthwisePhases512.Run(x, ones, null, null, y, 1, p0, p1, g, default, default, divisor);
    }

    /// <summary>Max or sum of a window's elements, as a struct parameter so each kernel is specialized.</summary>
    private interface IWindowOp
    {
        bool IsMax { get; }
        float Identity { get; }
        Vector256<float> Combine(Vector256<float> acc, Vector256<float> v);
        float Combine(float acc, float v);
    }

    private readonly struct MaxOp : IWindowOp
    {
        public bool IsMax => true;
        public float Identity => float.NegativeInfinity;

        // MAXPS returns its second operand when either is NaN, so a NaN input never wins (as in PoolCore).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Combine(Vector256<float> acc, Vector256<float> v) => Avx.Max(v, acc);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Combine(float acc, float v) => v > acc ? v : acc;
    }

    private readonly struct SumOp : IWindowOp
    {
        public bool IsMax => false;
        public float Identity => 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Combine(Vector256<float> acc, Vector256<float> v) => acc + v;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Combine(float acc, float v) => acc + v;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Planes<TOp, TLoad>(float* x, float* y, int p0, int p1, Conv3D g, bool includePad, int padEndH, int padEndW, bool vec)
        where TOp : struct, IWindowOp where TLoad : struct, ITapLoad
    {
        TOp op = default;
        TLoad load = default;
        int inSize = g.InputSize, outSize = g.OutputSize, ow = g.OW, ow8 = Math.Max(ow, 8);
        int kh = g.KH, kw = g.KW, sw = g.SW, sh = g.SH;
        var (rows, width) = ConvPaddedPlane.Size(g);
        int rowStep = g.LH * width, colStep = g.LW;
        float* buf = GemmScratch.ForThread.Extra(rows * width + ow8);
        // Average divisor per column (the row's share multiplies in per row): the elements read, or with
        // count_include_pad the window positions inside the padded input, as PoolCore counts them.
        float* colCount = buf + rows * width;
        for (int ox = 0; ox < ow8; ox++)
            colCount[ox] = Count(ox * sw - g.PW, kw, g.LW, g.PW, g.IW, padEndW, includePad);
        float* tmp = stackalloc float[8];
        for (int p = p0; p < p1; p++)
        {
            float* yp = y + (long)p * outSize;
            ConvPaddedPlane.Fill(x + (long)p * inSize, g, buf, rows, width, op.Identity);
            for (int oy = 0; oy < g.OH; oy++)
            {
                float* yr = yp + oy * ow, src = buf + oy * sh * width;
                float rowCount = op.IsMax ? 1 : Count(oy * sh - g.PH, kh, g.LH, g.PH, g.IH, padEndH, includePad);
                if (!vec)
                {
                    for (int ox = 0; ox < ow; ox++)
                    {
                        float acc = op.Identity;
                        float* s = src + ox * sw;
                        for (int ky = 0; ky < kh; ky++, s += rowStep)
                            for (int kx = 0; kx < kw; kx++) acc = op.Combine(acc, s[kx * colStep]);
                        yr[ox] = op.IsMax ? acc : acc / (rowCount * colCount[ox]);
                    }
                    continue;
                }
                if (ow < 8)
                {
                    Vector256.Store(Window(op, load, src, kh, kw, rowStep, colStep, rowCount, colCount), tmp);
                    for (int t = 0; t < ow; t++) yr[t] = tmp[t];
                    continue;
                }
                // Two vectors per pass: two independent dependency chains through the taps.
                for (int ox = 0; ox < ow; ox += 16)
                {
                    int s0 = ConvPaddedPlane.VectorStart(ox, ow), s1 = ConvPaddedPlane.VectorStart(Math.Min(ox + 8, ow - 8), ow);
                    var acc0 = Vector256.Create(op.Identity);
                    var acc1 = acc0;
                    float* a = src + s0 * sw, b = src + s1 * sw;
                    for (int ky = 0; ky < kh; ky++, a += rowStep, b += rowStep)
                        for (int kx = 0; kx < kw; kx++)
                        {
                            acc0 = op.Combine(acc0, load.Load(a + kx * colStep));
                            acc1 = op.Combine(acc1, load.Load(b + kx * colStep));
                        }
                    // The divisor is an integer count as in PoolCore (the product is exact in float), then one division.
                    if (!op.IsMax)
                    {
                        acc0 /= Vector256.Load(colCount + s0) * Vector256.Create(rowCount);
                        acc1 /= Vector256.Load(colCount + s1) * Vector256.Create(rowCount);
                    }
                    Vector256.Store(acc0, yr + s0);
                    Vector256.Store(acc1, yr + s1);
                }
            }
        }
    }

    /// <summary>Eight outputs of a row whose first window starts at <paramref name="s"/> (rows shorter than eight).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Window<TOp, TLoad>(TOp op, TLoad load, float* s, int kh, int kw, int rowStep, int colStep, float rowCount, float* colCount)
        where TOp : struct, IWindowOp where TLoad : struct, ITapLoad
    {
        var acc = Vector256.Create(op.Identity);
        for (int ky = 0; ky < kh; ky++, s += rowStep)
            for (int kx = 0; kx < kw; kx++) acc = op.Combine(acc, load.Load(s + kx * colStep));
        return op.IsMax ? acc : acc / (Vector256.Load(colCount) * Vector256.Create(rowCount));
    }

    /// <summary>The divisor's share of one axis: taps inside the input, or with count_include_pad inside the padded input.</summary>
    private static int Count(int start, int k, int d, int padBegin, int size, int padEnd, bool includePad)
    {
        if (includePad) return PoolCore.Covered(start, k, d, padBegin, size + padEnd);
        int n = 0;
        for (int t = 0, pos = start; t < k; t++, pos += d)
            if ((uint)pos < (uint)size) n++;
        return n;
    }
}
