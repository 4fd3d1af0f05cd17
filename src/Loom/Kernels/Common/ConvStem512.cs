using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// Direct AVX-512 convolution for stems: few input channels (C ≤ 4), one group, 2-D, stride 2, no dilation. The implicit
/// GEMM (<see cref="ConvWideGemm"/>) has too short a depth here (27 or 147 steps) to hide its tile loads and stores,
/// crosses output rows with scratch tiles and applies its epilogue apart. Here each band of output rows first copies the
/// zero-padded rows it reads into phase rows per channel (P_p[r][j] = xpad[r][SW·j + p], a per-thread buffer that stays in
/// L2), so output column ow's tap kw reads P_{kw mod SW}[SH·oh + kh][ow + kw / SW] with unit stride: each tap is 4
/// unaligned loads of 16 columns, 4 weight broadcasts and 16 FMAs into 4 output channels × 64 columns held in registers,
/// summed in (c, kh, kw) order. Each output row's blocks are stored straight into Y with bias, residual and Relu fused (the
/// last block of a row through masked stores, never past the row end). Parts are bands of output rows, each run in bands of
/// 16 rows whose phase rows every 4-channel group reads; every element is the same sum whatever the split, so the bits do
/// not depend on the thread count. (The whole image copied first, as before, wrote and read back 4.9 MB for the PP-OCR
/// detector's 640² stem: 1.91–1.94 → 1.32–1.33 ms at one thread with the copy inside the bands.)
/// </summary>
internal static unsafe class ConvStem512
{
    private const int Lanes = 16;
    private const int MaxChannels = 4;
    private const int MaxKernel = 11;

    /// <summary>
    /// Fewest taps (C·KH·KW) taken. SqueezeNet's and ShuffleNet's 3×3×3 stems (27) run here 0.30–0.32 ms against ConvWideGemm's
    /// 0.41–0.43 and 0.15–0.17 against 0.23 (profile --min, one thread, alternated, 2026-11-28 23:20); an earlier reading at
    /// load 7–8 (0.41–0.46 against 0.35–0.46) had kept them out. One- and two-channel 3×3 kernels (9, 18 taps) are unmeasured.
    /// </summary>
    private const int MinTaps = 27;

    /// <summary>Widest padded input row copied through the stack.</summary>
    private const int MaxRowFloats = 4096;

    /// <summary>
    /// Output rows per band: each band's phase rows (2·16 + KH − 1 rows of every channel and phase: 52–114 KB for 3×3 and 7×7
    /// stems at 224²) stay in L2 while every 4-channel group runs over it, where a whole part's planes (~700 KB) were read
    /// again from L3 by each group. ResNet-50's 7×7 stem: 1.31–1.32 against 1.45–1.46 ms (one thread, alternated).
    /// </summary>
    private const int Band = 16;

    /// <summary>Whether this kernel takes the convolution (shape only, never the thread count).</summary>
    public static bool Supports(ConvProblem p, Conv3D g, ChannelTransform input) =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported && p.Group == 1 && p.Channels <= MaxChannels && p.OutChannels % 4 == 0
        && g.KD == 1 && g.ID == 1 && g.OD == 1 && g.LH == 1 && g.LW == 1 && g.SH == 2 && g.SW == 2
        && g.KH <= MaxKernel && g.KW <= MaxKernel && g.OW >= Lanes && input.IsIdentity && !input.HasMap
        && p.Channels * g.KH * g.KW >= MinTaps && (long)g.SW * Width(g) <= MaxRowFloats;

    /// <summary>Columns per phase row: every 16-column block of outputs plus the widest tap's reach, in whole vectors.</summary>
    private static int Width(Conv3D g) => RoundUp(RoundUp(g.OW, Lanes) + (g.KW - 1) / g.SW, Lanes);

    private static int RoundUp(int v, int m) => (v + m - 1) / m * m;

    /// <summary>Tests only: how many convolutions the calling thread ran here (to check the cases take this path).</summary>
    [ThreadStatic] internal static int s_runs;

    /// <summary>Y = act(conv(X, W) + bias + residual) for every image.</summary>
    public static void Run(ConvProblem p, Conv3D g, ConvBuffers t, FusedActivation act, WorkerPool? pool)
    {
        s_runs++;
        int c = p.Channels, m = p.OutChannels, wq = Width(g), threads = pool?.Threads ?? 1;
        long phaseSize = (long)BandRows(g) * wq, channelSize = g.SW * phaseSize;
        int taps = c * g.KH * g.KW;
        int* offsets = stackalloc int[taps];
        for (int ci = 0, k = 0; ci < c; ci++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                    offsets[k++] = (int)(ci * channelSize + kw % g.SW * phaseSize + (long)kh * wq + kw / g.SW);
        for (int n = 0; n < p.Batch; n++)
        {
            long yOff = (long)n * m * g.OutputSize;
            var job = new Job(t.X + (long)n * c * g.InputSize, c, offsets, taps, g, wq, t.W, t.Bias, t.Y + yOff,
                t.Residual == null ? null : t.Residual + yOff, m, act, threads == 1 ? 1 : Math.Min(g.OH, threads * 4));
            WorkerPool.Split(pool, job.Parts, job);
        }
    }

    /// <summary>Padded input rows one band of <see cref="Band"/> output rows reads.</summary>
    private static int BandRows(Conv3D g) => (Band - 1) * g.SH + g.KH;

    /// <summary>
    /// Copies padded rows [<paramref name="r0"/>, <paramref name="r1"/>) of every channel into the band's phase rows (row r at
    /// r − r0): P_p[r][j] = xpad[r][SW·j + p]. <paramref name="row"/> holds one padded row (SW·wq floats).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fill(float* x, float* planes, Conv3D g, int channels, int r0, int r1, long phaseSize, int wq, float* row)
    {
        int sw = g.SW, width = sw * wq;
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = evens + Vector512<int>.One;
        for (int c = 0; c < channels; c++)
        {
            float* xc = x + (long)c * g.InputSize, pc = planes + c * sw * phaseSize;
            for (int r = r0; r < r1; r++)
            {
                int iy = r - g.PH;
                float* e = pc + (long)(r - r0) * wq, o = e + phaseSize;
                if ((uint)iy >= (uint)g.IH)
                {
                    new Span<float>(e, wq).Clear();
                    new Span<float>(o, wq).Clear();
                    continue;
                }
                // The padded row xpad[i] = x[iy][i − PW] (zero outside), then split into even and odd columns.
                int lo = Math.Min(g.PW, width), hi = Math.Clamp(g.PW + g.IW, lo, width);
                new Span<float>(row, lo).Clear();
                new ReadOnlySpan<float>(xc + (long)iy * g.IW, hi - lo).CopyTo(new Span<float>(row + lo, hi - lo));
                new Span<float>(row + hi, width - hi).Clear();
                for (int j = 0; j < wq; j += Lanes)
                {
                    var a = Vector512.Load(row + 2 * j);
                    var b = Vector512.Load(row + 2 * j + Lanes);
                    Vector512.Store(Avx512F.PermuteVar16x32x2(a, evens, b), e + j);
                    Vector512.Store(Avx512F.PermuteVar16x32x2(a, odds, b), o + j);
                }
            }
        }
    }

    /// <param name="offsets">Per tap (c, kh, kw): floats from a row's phase-plane origin to the tap's first input.</param>
    private readonly struct Job(float* x, int channels, int* offsets, int taps, Conv3D g, int wq, float* w, float* bias, float* y,
        float* residual, int m, FusedActivation act, int parts) : IParallelJob
    {
        public int Parts => parts;

        public void Execute(int part)
        {
            int oh0 = (int)((long)g.OH * part / parts), oh1 = (int)((long)g.OH * (part + 1) / parts);
            int ow = g.OW, outSize = g.OutputSize;
            bool relu = act.Kind == ActivationKind.Relu, after = act.Kind is not (ActivationKind.None or ActivationKind.Relu);
            long phaseSize = (long)BandRows(g) * wq;
            float* planes = GemmScratch.ForThread.B(checked((int)(channels * g.SW * phaseSize)));
            float* row = stackalloc float[g.SW * wq];
            for (int b0 = oh0; b0 < oh1; b0 += Band)
            {
                int b1 = Math.Min(b0 + Band, oh1);
                Fill(x, planes, g, channels, b0 * g.SH, (b1 - 1) * g.SH + g.KH, phaseSize, wq, row);
                for (int i = 0; i < m; i += 4)
                    for (int oh = b0; oh < b1; oh++)
                    {
                        float* src = planes + (long)(oh - b0) * g.SH * wq;
                        long at = (long)i * outSize + (long)oh * ow;
                        var e = new Epilogue(y + at, residual == null ? null : residual + at, outSize, bias == null ? null : bias + i, relu);
                        float* wi = w + (long)i * taps;
                        int x0 = 0;
                        for (; x0 + 4 * Lanes <= ow; x0 += 4 * Lanes) Block<V4>(src + x0, offsets, taps, wi, e, x0, 4 * Lanes);
                        int rest = ow - x0;
                        if (rest > 3 * Lanes) Block<V4>(src + x0, offsets, taps, wi, e, x0, rest);
                        else if (rest > 2 * Lanes) Block<V3>(src + x0, offsets, taps, wi, e, x0, rest);
                        else if (rest > Lanes) Block<V2>(src + x0, offsets, taps, wi, e, x0, rest);
                        else if (rest > 0) Block<V1>(src + x0, offsets, taps, wi, e, x0, rest);
                        if (after)
                            for (int r = 0; r < 4; r++) act.ApplyRow(y + at + (long)r * outSize, ow, 0, null);
                    }
            }
        }
    }

    /// <summary>Where 4 output channels' row goes: Y, the residual beside it (may be Y itself), channel stride, 4 biases.</summary>
    private readonly struct Epilogue(float* y, float* residual, int stride, float* bias, bool relu)
    {
        public readonly float* Y = y, Residual = residual, Bias = bias;
        public readonly int Stride = stride;
        public readonly bool Relu = relu;

        /// <summary>Stores acc (+ bias + residual, Relu) at channel r, column x; the residual is read before Y is written.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector512<float> acc, int r, int x)
        {
            long at = (long)r * Stride + x;
            if (Bias != null) acc += Vector512.Create(Bias[r]);
            if (Residual != null) acc += Vector512.Load(Residual + at);
            if (Relu) acc = Vector512.Max(acc, Vector512<float>.Zero);
            Vector512.Store(acc, Y + at);
        }

        /// <summary>The first <paramref name="n"/> columns of acc, as <see cref="Store"/> with masked loads and stores (the same bits).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void StorePartial(Vector512<float> acc, int r, int x, int n)
        {
            long at = (long)r * Stride + x;
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();
            if (Bias != null) acc += Vector512.Create(Bias[r]);
            if (Residual != null) acc += Avx512F.MaskLoad(Residual + at, mask, Vector512<float>.Zero);
            if (Relu) acc = Vector512.Max(acc, Vector512<float>.Zero);
            Avx512F.MaskStore(Y + at, mask, acc);
        }
    }

    private interface IVectors { static abstract int N { get; } }
    private struct V1 : IVectors { public static int N => 1; }
    private struct V2 : IVectors { public static int N => 2; }
    private struct V3 : IVectors { public static int N => 3; }
    private struct V4 : IVectors { public static int N => 4; }

    /// <summary>
    /// 4 output channels × 16·N columns from <paramref name="x0"/>, of which the first <paramref name="n"/> are inside the row. Each
    /// accumulator takes one FMA per tap, so N ≥ 2 keeps enough of them in flight to cover the FMA latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<T>(float* src, int* offsets, int taps, float* w, in Epilogue e, int x0, int n) where T : struct, IVectors
    {
        var a00 = Vector512<float>.Zero; var a01 = a00; var a02 = a00; var a03 = a00;
        var a10 = a00; var a11 = a00; var a12 = a00; var a13 = a00;
        var a20 = a00; var a21 = a00; var a22 = a00; var a23 = a00;
        var a30 = a00; var a31 = a00; var a32 = a00; var a33 = a00;
        float* w0 = w, w1 = w + taps, w2 = w + 2 * taps, w3 = w + 3 * taps;
        for (int k = 0; k < taps; k++)
        {
            float* s = src + offsets[k];
            var x0v = Vector512.Load(s);
            var x1v = T.N > 1 ? Vector512.Load(s + Lanes) : default;
            var x2v = T.N > 2 ? Vector512.Load(s + 2 * Lanes) : default;
            var x3v = T.N > 3 ? Vector512.Load(s + 3 * Lanes) : default;
            var b = Vector512.Create(w0[k]);
            a00 = Avx512F.FusedMultiplyAdd(x0v, b, a00);
            if (T.N > 1) a01 = Avx512F.FusedMultiplyAdd(x1v, b, a01);
            if (T.N > 2) a02 = Avx512F.FusedMultiplyAdd(x2v, b, a02);
            if (T.N > 3) a03 = Avx512F.FusedMultiplyAdd(x3v, b, a03);
            b = Vector512.Create(w1[k]);
            a10 = Avx512F.FusedMultiplyAdd(x0v, b, a10);
            if (T.N > 1) a11 = Avx512F.FusedMultiplyAdd(x1v, b, a11);
            if (T.N > 2) a12 = Avx512F.FusedMultiplyAdd(x2v, b, a12);
            if (T.N > 3) a13 = Avx512F.FusedMultiplyAdd(x3v, b, a13);
            b = Vector512.Create(w2[k]);
            a20 = Avx512F.FusedMultiplyAdd(x0v, b, a20);
            if (T.N > 1) a21 = Avx512F.FusedMultiplyAdd(x1v, b, a21);
            if (T.N > 2) a22 = Avx512F.FusedMultiplyAdd(x2v, b, a22);
            if (T.N > 3) a23 = Avx512F.FusedMultiplyAdd(x3v, b, a23);
            b = Vector512.Create(w3[k]);
            a30 = Avx512F.FusedMultiplyAdd(x0v, b, a30);
            if (T.N > 1) a31 = Avx512F.FusedMultiplyAdd(x1v, b, a31);
            if (T.N > 2) a32 = Avx512F.FusedMultiplyAdd(x2v, b, a32);
            if (T.N > 3) a33 = Avx512F.FusedMultiplyAdd(x3v, b, a33);
        }
        Store(e, 0, x0, n, a00, a01, a02, a03, T.N);
        Store(e, 1, x0, n, a10, a11, a12, a13, T.N);
        Store(e, 2, x0, n, a20, a21, a22, a23, T.N);
        Store(e, 3, x0, n, a30, a31, a32, a33, T.N);
    }

    /// <summary>Channel r's <paramref name="vectors"/> accumulators, the last one cut to what remains of <paramref name="n"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in Epilogue e, int r, int x0, int n, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2,
        Vector512<float> v3, int vectors)
    {
        if (n == vectors * Lanes)
        {
            e.Store(v0, r, x0);
            if (vectors > 1) e.Store(v1, r, x0 + Lanes);
            if (vectors > 2) e.Store(v2, r, x0 + 2 * Lanes);
            if (vectors > 3) e.Store(v3, r, x0 + 3 * Lanes);
            return;
        }
        var last = vectors switch { 1 => v0, 2 => v1, 3 => v2, _ => v3 };
        if (vectors > 1) e.Store(v0, r, x0);
        if (vectors > 2) e.Store(v1, r, x0 + Lanes);
        if (vectors > 3) e.Store(v2, r, x0 + 2 * Lanes);
        e.StorePartial(last, r, x0 + (vectors - 1) * Lanes, n - (vectors - 1) * Lanes);
    }
}
