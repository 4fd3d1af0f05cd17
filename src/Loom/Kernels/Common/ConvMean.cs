using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// A 1×1 convolution that writes only the mean over its positions (<c>FusedConv</c> with <c>spatial_mean</c>, made by
/// Passes.FuseConvMean from Conv → [Relu] → GlobalAveragePool): Y[n, m] = (1/P) Σ_p act(Σ_k W[m, k]·X[n, k, p] + B[m]), act
/// Relu or none. With AVX-512 the output channels are the vector lanes (ONNX Runtime's orientation for its NCHWc 1×1 layers):
/// W is packed once into panels [64 channels][K][64], and a tile is 4 weight vectors × 6 positions broadcast from X (24
/// accumulators, 10 loads per 24 FMAs). Its epilogue adds the bias, applies the Relu and adds each position into the panel's 64
/// running sums in position order, so the [M, P] product is never stored. Positions and channel tails take narrower tiles (no
/// padded lanes computed beyond the last 16-channel vector). Parts are whole panels: every sum is the same whatever the thread
/// count. SqueezeNet's classifier (1000 × 512 over 13 × 13) wrote 676 KB that its pool read back, and as an implicit GEMM
/// with positions as lanes it left a 9-column tail. Without AVX-512: each channel's row of the product in a scratch row, then
/// its mean.
/// </summary>
internal static unsafe class ConvMean
{
    private const int Lanes = 16;
    private const int PanelChannels = 4 * Lanes;
    private const int TilePositions = 6;
    private const int KBlock = 64;

    /// <summary>Whether the panel kernel runs here: the AVX-512 kernel set is in use (tests force the others) and supported.</summary>
    public static bool Wide => GemmKernelSet.Current.Is512 && Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>W [M, K] packed as [panel][K][64] (channels past M zero), 64-byte aligned at <see cref="Packed.Pointer"/>.</summary>
    public sealed class Packed
    {
        private readonly float[] _data;

        public Packed(float* w, int m, int k)
        {
            int panels = (m + PanelChannels - 1) / PanelChannels;
            _data = GC.AllocateArray<float>(checked(panels * k * PanelChannels + 16), pinned: true);
            Pointer = GemmScratch.AlignedPointer(_data);
            for (int c = 0; c < m; c++)
                for (int kk = 0; kk < k; kk++)
                    Pointer[((long)(c / PanelChannels) * k + kk) * PanelChannels + c % PanelChannels] = w[(long)c * k + kk];
        }

        public float* Pointer { get; }
    }

    /// <summary>Y [N, M] from X [N, K, P]; <paramref name="packed"/> is required where <see cref="Wide"/>, else ignored.</summary>
    public static void Run(float* x, float* w, Packed? packed, float* bias, float* y, int batch, int m, int k, int positions, bool relu, WorkerPool? pool)
    {
        int threads = pool?.Threads ?? 1;
        if (Wide && packed is not null)
        {
            int panels = (m + PanelChannels - 1) / PanelChannels, items = batch * panels;
            WorkerPool.Split(pool, Math.Min(items, threads), new PanelJob(x, packed.Pointer, bias, y, m, k, positions, panels, relu, items, Math.Min(items, threads)));
        }
        else
        {
            int items = batch * m;
            WorkerPool.Split(pool, Math.Min(items, threads), new RowJob(x, w, bias, y, m, k, positions, relu, items, Math.Min(items, threads)));
        }
    }

    /// <summary>Items are (image, panel) pairs in order; part q takes a contiguous range of them.</summary>
    private readonly struct PanelJob(float* x, float* packed, float* bias, float* y, int m, int k, int positions, int panels, bool relu, int items, int parts)
        : IParallelJob
    {
        public void Execute(int part)
        {
            int i0 = (int)((long)items * part / parts), i1 = (int)((long)items * (part + 1) / parts);
            long panelSize = (long)k * PanelChannels;
            for (int i = i0; i < i1; i++)
            {
                int n = i / panels, panel = i % panels;
                // The next panel this part runs is prefetched into L2 while this one computes (its weights come from L3).
                float* next = i + 1 < i1 ? packed + (i + 1) % panels * panelSize : null;
                Panel(x + (long)n * k * positions, packed + panel * panelSize, next, bias, y + (long)n * m, m, panel, k, positions, relu);
            }
        }
    }

    private static void Panel(float* x, float* w, float* next, float* bias, float* y, int m, int panel, int k, int positions, bool relu)
    {
        int c0 = panel * PanelChannels, rem = Math.Min(PanelChannels, m - c0), vectors = (rem + Lanes - 1) / Lanes;
        var sums = stackalloc Vector512<float>[4];
        var b = stackalloc Vector512<float>[4];
        for (int j = 0; j < 4; j++)
        {
            sums[j] = Vector512<float>.Zero;
            b[j] = bias == null || j >= vectors ? Vector512<float>.Zero : Avx512F.MaskLoad(bias + c0 + j * Lanes, Mask(rem - j * Lanes), Vector512<float>.Zero);
        }
        // K in blocks whose weights (64 channels × KBlock rows, 16 KB) stay in L1 across every position tile; a tile's sums
        // are kept between blocks (in order of k, the same sums as one pass) in a per-thread scratch.
        int tiles = (positions + TilePositions - 1) / TilePositions;
        var partials = (Vector512<float>*)GemmScratch.ForThread.Extra(tiles * 24 * Lanes); // 64-byte aligned
        for (int k0 = 0; k0 < k; k0 += KBlock)
        {
            int kc = Math.Min(KBlock, k - k0);
            bool first = k0 == 0, last = k0 + kc == k;
            for (int p0 = 0, t = 0; p0 < positions; p0 += TilePositions, t++)
            {
                // Tiles 0–3 of each block each prefetch one of the four lines of the block's K rows of the next panel.
                float* pf = next != null && t < 4 ? next + (long)k0 * PanelChannels + t * Lanes : null;
                var tile = new TileArgs(x + (long)k0 * positions + p0, positions, kc, w + (long)k0 * PanelChannels, pf, partials + t * 24, first, last);
                int count = Math.Min(TilePositions, positions - p0);
                switch (vectors)
                {
                    case 1: Tiles<V1>(count, tile, sums, b, relu); break;
                    case 2: Tiles<V2>(count, tile, sums, b, relu); break;
                    case 3: Tiles<V3>(count, tile, sums, b, relu); break;
                    default: Tiles<V4>(count, tile, sums, b, relu); break;
                }
            }
        }
        var scale = Vector512.Create((float)positions);
        for (int j = 0; j < vectors; j++) Avx512F.MaskStore(y + c0 + j * Lanes, Mask(rem - j * Lanes), sums[j] / scale);
    }

    /// <summary>Lanes [0, n) (all 16 for n ≥ 16).</summary>
    private static Vector512<float> Mask(int n) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();

    /// <summary>
    /// One tile's operands: X from its first position and block row (rows <see cref="Stride"/> apart), <see cref="K"/> rows, the
    /// block's weights, the prefetch address (or null), its kept sums, whether the block is the first and the last.
    /// </summary>
    private readonly struct TileArgs(float* x, int stride, int k, float* w, float* prefetch, Vector512<float>* partial, bool first, bool last)
    {
        public readonly float* X = x, W = w, Prefetch = prefetch;
        public readonly int Stride = stride, K = k;
        public readonly Vector512<float>* Partial = partial;
        public readonly bool First = first, Last = last;
    }

    private static void Tiles<TV>(int count, in TileArgs t, Vector512<float>* sums, Vector512<float>* bias, bool relu) where TV : struct, ICount
    {
        switch (count)
        {
            case 1: Tile<TV, V1>(t, sums, bias, relu); break;
            case 2: Tile<TV, V2>(t, sums, bias, relu); break;
            case 3: Tile<TV, V3>(t, sums, bias, relu); break;
            case 4: Tile<TV, V4>(t, sums, bias, relu); break;
            case 5: Tile<TV, V5>(t, sums, bias, relu); break;
            default: Tile<TV, V6>(t, sums, bias, relu); break;
        }
    }

    private interface ICount { static abstract int N { get; } }
    private struct V1 : ICount { public static int N => 1; }
    private struct V2 : ICount { public static int N => 2; }
    private struct V3 : ICount { public static int N => 3; }
    private struct V4 : ICount { public static int N => 4; }
    private struct V5 : ICount { public static int N => 5; }
    private struct V6 : ICount { public static int N => 6; }

    /// <summary>
    /// TV.N weight vectors × TP.N positions (x[0..TP.N) of each K row, rows <paramref name="stride"/> apart), summed over k in
    /// order, then added into <paramref name="sums"/> position by position.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TV, TP>(in TileArgs t, Vector512<float>* sums, Vector512<float>* bias, bool relu)
        where TV : struct, ICount where TP : struct, ICount
    {
        float* x = t.X, w = t.W, pf = t.Prefetch;
        var partial = t.Partial;
        int stride = t.Stride, k = t.K;
        bool first = t.First, last = t.Last;
        var z = Vector512<float>.Zero;
        var a00 = z; var a01 = z; var a02 = z; var a03 = z; var a04 = z; var a05 = z; var a10 = z; var a11 = z; var a12 = z; var a13 = z; var a14 = z; var a15 = z; var a20 = z; var a21 = z; var a22 = z; var a23 = z; var a24 = z; var a25 = z; var a30 = z; var a31 = z; var a32 = z; var a33 = z; var a34 = z; var a35 = z;
        if (!first)
        {
            a00 = partial[0];
            if (TP.N > 1) a01 = partial[1];
            if (TP.N > 2) a02 = partial[2];
            if (TP.N > 3) a03 = partial[3];
            if (TP.N > 4) a04 = partial[4];
            if (TP.N > 5) a05 = partial[5];
            if (TV.N > 1) a10 = partial[6];
            if (TV.N > 1 && TP.N > 1) a11 = partial[7];
            if (TV.N > 1 && TP.N > 2) a12 = partial[8];
            if (TV.N > 1 && TP.N > 3) a13 = partial[9];
            if (TV.N > 1 && TP.N > 4) a14 = partial[10];
            if (TV.N > 1 && TP.N > 5) a15 = partial[11];
            if (TV.N > 2) a20 = partial[12];
            if (TV.N > 2 && TP.N > 1) a21 = partial[13];
            if (TV.N > 2 && TP.N > 2) a22 = partial[14];
            if (TV.N > 2 && TP.N > 3) a23 = partial[15];
            if (TV.N > 2 && TP.N > 4) a24 = partial[16];
            if (TV.N > 2 && TP.N > 5) a25 = partial[17];
            if (TV.N > 3) a30 = partial[18];
            if (TV.N > 3 && TP.N > 1) a31 = partial[19];
            if (TV.N > 3 && TP.N > 2) a32 = partial[20];
            if (TV.N > 3 && TP.N > 3) a33 = partial[21];
            if (TV.N > 3 && TP.N > 4) a34 = partial[22];
            if (TV.N > 3 && TP.N > 5) a35 = partial[23];
        }
        for (int kk = 0; kk < k; kk++, x += stride, w += PanelChannels)
        {
            if (pf != null) Sse.Prefetch1(pf + (long)kk * PanelChannels);
                var w0 = Vector512.Load(w);
                var w1 = TV.N > 1 ? Vector512.Load(w + 16) : z;
                var w2 = TV.N > 2 ? Vector512.Load(w + 32) : z;
                var w3 = TV.N > 3 ? Vector512.Load(w + 48) : z;
                var b = Vector512.Create(x[0]);
                a00 = Avx512F.FusedMultiplyAdd(w0, b, a00);
                if (TV.N > 1) a10 = Avx512F.FusedMultiplyAdd(w1, b, a10);
                if (TV.N > 2) a20 = Avx512F.FusedMultiplyAdd(w2, b, a20);
                if (TV.N > 3) a30 = Avx512F.FusedMultiplyAdd(w3, b, a30);
                if (TP.N > 1)
                {
                    b = Vector512.Create(x[1]);
                    a01 = Avx512F.FusedMultiplyAdd(w0, b, a01);
                    if (TV.N > 1) a11 = Avx512F.FusedMultiplyAdd(w1, b, a11);
                    if (TV.N > 2) a21 = Avx512F.FusedMultiplyAdd(w2, b, a21);
                    if (TV.N > 3) a31 = Avx512F.FusedMultiplyAdd(w3, b, a31);
                }
                if (TP.N > 2)
                {
                    b = Vector512.Create(x[2]);
                    a02 = Avx512F.FusedMultiplyAdd(w0, b, a02);
                    if (TV.N > 1) a12 = Avx512F.FusedMultiplyAdd(w1, b, a12);
                    if (TV.N > 2) a22 = Avx512F.FusedMultiplyAdd(w2, b, a22);
                    if (TV.N > 3) a32 = Avx512F.FusedMultiplyAdd(w3, b, a32);
                }
                if (TP.N > 3)
                {
                    b = Vector512.Create(x[3]);
                    a03 = Avx512F.FusedMultiplyAdd(w0, b, a03);
                    if (TV.N > 1) a13 = Avx512F.FusedMultiplyAdd(w1, b, a13);
                    if (TV.N > 2) a23 = Avx512F.FusedMultiplyAdd(w2, b, a23);
                    if (TV.N > 3) a33 = Avx512F.FusedMultiplyAdd(w3, b, a33);
                }
                if (TP.N > 4)
                {
                    b = Vector512.Create(x[4]);
                    a04 = Avx512F.FusedMultiplyAdd(w0, b, a04);
                    if (TV.N > 1) a14 = Avx512F.FusedMultiplyAdd(w1, b, a14);
                    if (TV.N > 2) a24 = Avx512F.FusedMultiplyAdd(w2, b, a24);
                    if (TV.N > 3) a34 = Avx512F.FusedMultiplyAdd(w3, b, a34);
                }
                if (TP.N > 5)
                {
                    b = Vector512.Create(x[5]);
                    a05 = Avx512F.FusedMultiplyAdd(w0, b, a05);
                    if (TV.N > 1) a15 = Avx512F.FusedMultiplyAdd(w1, b, a15);
                    if (TV.N > 2) a25 = Avx512F.FusedMultiplyAdd(w2, b, a25);
                    if (TV.N > 3) a35 = Avx512F.FusedMultiplyAdd(w3, b, a35);
                }
        }
        if (!last)
        {
            partial[0] = a00;
            if (TP.N > 1) partial[1] = a01;
            if (TP.N > 2) partial[2] = a02;
            if (TP.N > 3) partial[3] = a03;
            if (TP.N > 4) partial[4] = a04;
            if (TP.N > 5) partial[5] = a05;
            if (TV.N > 1) partial[6] = a10;
            if (TV.N > 1 && TP.N > 1) partial[7] = a11;
            if (TV.N > 1 && TP.N > 2) partial[8] = a12;
            if (TV.N > 1 && TP.N > 3) partial[9] = a13;
            if (TV.N > 1 && TP.N > 4) partial[10] = a14;
            if (TV.N > 1 && TP.N > 5) partial[11] = a15;
            if (TV.N > 2) partial[12] = a20;
            if (TV.N > 2 && TP.N > 1) partial[13] = a21;
            if (TV.N > 2 && TP.N > 2) partial[14] = a22;
            if (TV.N > 2 && TP.N > 3) partial[15] = a23;
            if (TV.N > 2 && TP.N > 4) partial[16] = a24;
            if (TV.N > 2 && TP.N > 5) partial[17] = a25;
            if (TV.N > 3) partial[18] = a30;
            if (TV.N > 3 && TP.N > 1) partial[19] = a31;
            if (TV.N > 3 && TP.N > 2) partial[20] = a32;
            if (TV.N > 3 && TP.N > 3) partial[21] = a33;
            if (TV.N > 3 && TP.N > 4) partial[22] = a34;
            if (TV.N > 3 && TP.N > 5) partial[23] = a35;
            return;
        }
        Add(sums, 0, a00, bias, relu);
        if (TV.N > 1) Add(sums, 1, a10, bias, relu);
        if (TV.N > 2) Add(sums, 2, a20, bias, relu);
        if (TV.N > 3) Add(sums, 3, a30, bias, relu);
        if (TP.N > 1)
        {
            Add(sums, 0, a01, bias, relu);
            if (TV.N > 1) Add(sums, 1, a11, bias, relu);
            if (TV.N > 2) Add(sums, 2, a21, bias, relu);
            if (TV.N > 3) Add(sums, 3, a31, bias, relu);
        }
        if (TP.N > 2)
        {
            Add(sums, 0, a02, bias, relu);
            if (TV.N > 1) Add(sums, 1, a12, bias, relu);
            if (TV.N > 2) Add(sums, 2, a22, bias, relu);
            if (TV.N > 3) Add(sums, 3, a32, bias, relu);
        }
        if (TP.N > 3)
        {
            Add(sums, 0, a03, bias, relu);
            if (TV.N > 1) Add(sums, 1, a13, bias, relu);
            if (TV.N > 2) Add(sums, 2, a23, bias, relu);
            if (TV.N > 3) Add(sums, 3, a33, bias, relu);
        }
        if (TP.N > 4)
        {
            Add(sums, 0, a04, bias, relu);
            if (TV.N > 1) Add(sums, 1, a14, bias, relu);
            if (TV.N > 2) Add(sums, 2, a24, bias, relu);
            if (TV.N > 3) Add(sums, 3, a34, bias, relu);
        }
        if (TP.N > 5)
        {
            Add(sums, 0, a05, bias, relu);
            if (TV.N > 1) Add(sums, 1, a15, bias, relu);
            if (TV.N > 2) Add(sums, 2, a25, bias, relu);
            if (TV.N > 3) Add(sums, 3, a35, bias, relu);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(Vector512<float>* sums, int j, Vector512<float> acc, Vector512<float>* bias, bool relu)
    {
        var v = acc + bias[j];
        sums[j] += relu ? Vector512.Max(v, Vector512<float>.Zero) : v;
    }

    /// <summary>The portable loop: items are (image, channel) pairs; a channel's product row in a scratch row, then its mean.</summary>
    private readonly struct RowJob(float* x, float* w, float* bias, float* y, int m, int k, int positions, bool relu, int items, int parts) : IParallelJob
    {
        public void Execute(int part)
        {
            int i0 = (int)((long)items * part / parts), i1 = (int)((long)items * (part + 1) / parts);
            float* row = GemmScratch.ForThread.Extra(positions);
            int width = Vector<float>.Count;
            for (int i = i0; i < i1; i++)
            {
                int n = i / m, c = i % m;
                float* xn = x + (long)n * k * positions, wc = w + (long)c * k;
                new Span<float>(row, positions).Clear();
                for (int kk = 0; kk < k; kk++)
                {
                    float a = wc[kk];
                    float* xr = xn + (long)kk * positions;
                    int p = 0;
                    for (; p + width <= positions; p += width)
                        Vector.Store(Vector.FusedMultiplyAdd(Vector.Load(xr + p), new Vector<float>(a), Vector.Load(row + p)), row + p);
                    for (; p < positions; p++) row[p] = MathF.FusedMultiplyAdd(xr[p], a, row[p]);
                }
                float b = bias == null ? 0 : bias[c], sum = 0;
                for (int p = 0; p < positions; p++)
                {
                    float v = row[p] + b;
                    sum += relu ? Math.Max(v, 0) : v;
                }
                y[(long)n * m + c] = sum / positions;
            }
        }
    }
}
