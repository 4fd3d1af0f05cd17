using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// Which convolutions take Winograd F(2×2, 3×3) (<see cref="WinogradF2"/>): each 2×2 block of outputs ("tile") costs
/// α² = 16 multiplies per channel pair instead of 36, 2.25× fewer, paid for with cheap additive transforms of the input
/// patches and the products; <see cref="ConvWinograd4"/> chooses F(4×4) on larger planes first. Both run as
/// <see cref="ConvWinograd{T}"/>. Which layers take a Winograd path depends on their shape only (<see cref="Worth"/>).
/// </summary>
internal static class ConvWinograd
{
    /// <summary>F(2×2)'s frequencies (α² for α = 4), for the cost model.</summary>
    public const int Frequencies = 16;

    /// <summary>Off with LOOM_WINOGRAD=0 (A/B runs against the other paths), read once per process.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("LOOM_WINOGRAD") != "0";

    /// <summary>3×3, stride 1, dilation 1, one group, 2-D.</summary>
    public static bool Supports(Conv3D g, int group) =>
        group == 1 && g.KD == 1 && g.ID == 1 && g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.LH == 1 && g.LW == 1;

    /// <summary>
    /// Whether this shape runs faster in the Winograd domain (shape and kernel set only, never the thread count, so sequential
    /// and parallel runs take the same path). Few channels leave too little multiply to pay for the transforms; small planes pad
    /// their few tiles to whole GEMM panels and stream 16/9 more weight bytes for too little work — unless the tiles run as
    /// GEMM rows (<see cref="ConvWinogradTransposed"/>) on one whole plane at every thread count, and channels are many.
    /// </summary>
    public static bool Worth(ConvProblem p, Conv3D g, GemmKernelSet ks)
    {
        if (!Enabled || !Supports(g, p.Group) || p.Channels < MinChannels || p.OutChannels < MinChannels) return false;
        if (g.OH * g.OW >= MinPositions) return true;
        int tiles = (g.OH + 1) / 2 * ((g.OW + 1) / 2);
        return g.OH * g.OW >= MinPositionsAsRows && p.Channels >= MinChannelsAsRows && p.OutChannels >= MinChannelsAsRows
            && ConvWinogradTransposed.Worth(ks, tiles, p.Channels, p.OutChannels)
            && ConvWinogradSplit.Whole(Frequencies, p.Channels, p.OutChannels, tiles, ks.NR, 1, tileRows: true, blocks: 1);
    }

    /// <summary>
    /// Thresholds measured per layer at one thread (docs/performance.md, 2026-11-27): SqueezeNet's 13×13 layers (169 positions)
    /// and every 14×14 one still win (0.71–0.98 of the other paths' time), ResNet's and DenseNet's 7×7 lose (1.1–1.3: 16 tiles
    /// padded to a 32-tile panel); 16 input channels (SqueezeNet's 55×55 expand) win by 10–18%.
    /// </summary>
    public const int MinChannels = 16, MinPositions = 169;

    /// <summary>
    /// 7×7 planes with the tiles as rows (16 tiles: two whole 8-row panels), measured against the few-positions product they
    /// took before (2026-11-27 13:12, `Loom.Bench wino-split --cold 4 512,512,7`, fastest runs): ResNet-50's 512→512 3×3 at
    /// 7×7 in 1.88 ms at one thread (few positions 2.16–2.17, ONNX Runtime 1.94) and 1.03 ms at two (1.26–1.27 in the model).
    /// Only 512+ channels were measured; fewer stay where they were.
    /// </summary>
    public const int MinPositionsAsRows = 49, MinChannelsAsRows = 512;

    /// <summary>
    /// Output-channel slices per block: one when the blocks alone balance the threads (<see cref="BlocksBalance"/>), else the
    /// fewest that give every thread the same number of parts (each slice transforms its block's input again).
    /// </summary>
    internal static int Slices(int blocks, int rowPanels, int threads)
    {
        if (threads == 1 || BlocksBalance(blocks, threads)) return 1;
        int s = 1;
        while (s < rowPanels && (blocks * s < 2 * threads || blocks * s % threads != 0)) s++;
        return s;
    }

    /// <summary>
    /// Whether whole tile blocks, one part each, keep every thread busy: as many blocks as threads or a multiple of them, or
    /// three per thread or more (a block more on one thread costs at most a third). On the AVX-512 host of 2026-11-28 this split
    /// beat both slicing the blocks' output channels and the whole-plane split at two threads on all twelve SqueezeNet, ResNet-50,
    /// Inception and DenseNet shapes measured (`Loom.Bench wino-split`, fastest runs): SqueezeNet 16→64 at 55×55 (7 blocks)
    /// 0.262 ms against 0.331 sliced and 0.317 whole, its 64→256 at 13×13 (2 blocks) 0.158 against 0.164 and 0.177; under
    /// load, ResNet-50 256→256 at 14×14 0.433 against 0.597 and 0.504 (docs/performance.md, "Winograd at two threads").
    /// Slicing and the whole plane re-read or re-transform what another core wrote; one block per part keeps a part's
    /// input transform, products and output on one core.
    /// </summary>
    internal static bool BlocksBalance(int blocks, int threads) =>
        blocks >= threads && (blocks % threads == 0 || blocks >= 3 * threads);
}

/// <summary>
/// A Winograd convolution at tile size <typeparamref name="T"/>. Tiles are processed in blocks whose transformed inputs V
/// and products M stay in L2: the zero-bordered image → V (<see cref="IWinogradTiles.Input"/>, written in GEMM's packed-B
/// layout) → for each frequency ξ, M_ξ = U_ξ·V_ξ (<see cref="GemmCore"/>, U_ξ packed once per node,
/// <see cref="ConvWinogradWeights{T}"/>) → Y with the epilogue (<see cref="ConvWinogradOutput"/>). Every output element is
/// computed the same way whichever part computes it, so results do not depend on the thread count. With threads, planes
/// whose V is small enough to keep whole are split by <see cref="ConvWinogradWhole{T}"/> instead (the same bits).
/// </summary>
internal static unsafe class ConvWinograd<T> where T : struct, IWinogradTiles
{
    private static int Frequencies => (T.Tile + 2) * (T.Tile + 2);

    /// <summary>
    /// Y = conv(X); <paramref name="whole"/> and <paramref name="slices"/> override how the work is split (tests and
    /// `Loom.Bench wino-split`), which never changes a bit of Y.
    /// </summary>
    public static void Run(ConvProblem p, Conv3D g, ConvWinogradWeights<T> w, ConvBuffers t, FusedActivation act, WorkerPool? pool,
        bool? whole = null, int? slices = null, bool? transposed = null)
    {
        var ks = w.Kernels;
        int c = p.Channels, k = p.OutChannels, threads = pool?.Threads ?? 1;
        var l = ConvWinogradLayout.For<T>(g, c, k, ks.NR);
        bool rows = transposed ?? ConvWinogradTransposed.Worth(ks, l.Tiles, c, k);
        if (whole ?? ConvWinogradSplit.Whole(Frequencies, c, k, l.Tiles, ks.NR, threads, rows, l.Blocks))
        {
            ConvWinogradWhole<T>.Run(p, g, w, t, act, pool, l, rows);
            return;
        }
        float* planes = GemmScratch.ForThread.Extra(checked(c * l.PlaneSize));
        int rowPanels = (k + ks.MR - 1) / ks.MR, kSplit = slices ?? ConvWinograd.Slices(l.Blocks, rowPanels, threads);
        for (int n = 0; n < p.Batch; n++)
        {
            long yOff = (long)n * k * g.OutputSize;
            float* x = t.X + (long)n * c * g.InputSize;
            var fill = new FillJob(x, planes, g, l, c, t.Input, threads == 1 ? 1 : Math.Min(l.Hp, threads * 2));
            WorkerPool.Split(pool, fill.Parts, fill);
            var job = new Job(l, w, planes, t.Y + yOff, t.Bias, t.Residual == null ? null : t.Residual + yOff, act, kSplit, rowPanels);
            WorkerPool.Split(pool, l.Blocks * kSplit, job);
        }
    }

    /// <summary>Bands of plane rows across every channel, with the input's pre-activation.</summary>
    private readonly struct FillJob(float* x, float* planes, Conv3D g, ConvWinogradLayout l, int channels, ChannelTransform input, int parts) : IParallelJob
    {
        public int Parts => parts;

        public void Execute(int part)
        {
            int r0 = (int)((long)l.Hp * part / parts), r1 = (int)((long)l.Hp * (part + 1) / parts);
            bool transform = !input.IsIdentity;
            for (int c = 0; c < channels; c++)
                ConvPaddedPlane.Fill(x + (long)c * g.InputSize, g, planes + (long)c * l.PlaneSize, r0, r1, l.Wp, 0,
                    transform, transform ? input.Scale(c) : 1, transform ? input.Shift(c) : 0, input.Relu);
        }
    }

    /// <summary>Part = (tile block, slice of output channels): transform the block's input, α² products, transform back.</summary>
    private readonly struct Job(ConvWinogradLayout l, ConvWinogradWeights<T> w, float* planes, float* y, float* bias, float* residual, FusedActivation act,
        int kSplit, int rowPanels) : IParallelJob
    {
        public void Execute(int part)
        {
            int block = part / kSplit, slice = part % kSplit;
            var ks = w.Kernels;
            int c = w.Channels, k = w.OutChannels;
            int t0 = block * l.BlockTiles, t1 = Math.Min(l.Tiles, t0 + l.BlockTiles), paddedT = l.PaddedT(t1 - t0);
            int k0 = (int)((long)rowPanels * slice / kSplit) * ks.MR, k1 = Math.Min(k, (int)((long)rowPanels * (slice + 1) / kSplit) * ks.MR);
            long vStride = l.Stride(c), mStride = l.Stride(k);
            var scratch = GemmScratch.ForThread;
            float* v = scratch.WinogradInput(checked((int)(Frequencies * vStride)));
            int extra = T.InputScratch(l);
            float* m = scratch.WinogradProducts(checked((int)(Frequencies * mStride + extra + l.OutputRows * l.RowScratch + 24)));
            float* inputScratch = m + Frequencies * mStride + 8, rows = inputScratch + extra;
            // Columns past the block's last tile are computed and dropped: zero them so no denormal or NaN slows the products.
            if (paddedT != t1 - t0)
                for (int xi = 0; xi < Frequencies; xi++)
                    for (int kb = 0; kb < c; kb += GemmCore.KC)
                    {
                        int kc = Math.Min(GemmCore.KC, c - kb);
                        float* panel = v + xi * vStride + (long)kb * paddedT + (long)(paddedT - l.Nr) * kc;
                        new Span<float>(panel, kc * l.Nr).Clear();
                    }
            T.Input(l, planes, c, 0, c, t0, t1, v, vStride, l.Nr, inputScratch);
            for (int xi = 0; xi < Frequencies; xi++)
                GemmCore.MultiplyBlock(ks, k0, k1, 0, paddedT, c, w.Packed[xi].AsOperand(), new GemmPackedB.Ref(v + xi * vStride, paddedT),
                    m + xi * mStride, paddedT, false, default(GemmNoEpilogue));
            ConvWinogradOutput.Rows<T>(l, m, mStride, paddedT, k0, k1, t0, t1, y, bias, residual, act, rows);
        }
    }
}
