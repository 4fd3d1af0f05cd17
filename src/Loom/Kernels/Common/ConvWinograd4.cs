using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// Winograd F(4×4, 3×3): each 4×4 block of outputs costs 36 multiplies per channel pair instead of 144 (F(2×2)'s four tiles
/// would take 64), at the price of 6×6 input tiles, larger transforms and weights whose thirds and sixths round. Same
/// structure as <see cref="ConvWinograd"/>: zero-bordered planes → V (<see cref="ConvWinograd4Transform.Input"/>, packed-B
/// layout) → M_ξ = U_ξ·V_ξ for 36 frequencies → Y with the epilogue. Chosen by shape only (<see cref="Worth"/>), so
/// sequential and parallel runs give the same bits; with threads, small planes are split by <see cref="ConvWinograd4Whole"/>.
/// </summary>
internal static unsafe class ConvWinograd4
{
    /// <summary>Outputs per tile side (m), the transform's size (α = m + 2) and its frequencies (α²).</summary>
    public const int Tile = 4, Alpha = Tile + 2, Frequencies = Alpha * Alpha;

    /// <summary>Budget in floats for one block's V and M, as F(2×2)'s.</summary>
    private const int BlockFloats = 96 * 1024;

    /// <summary>Off with LOOM_WINOGRAD4=0 (A/B runs against F(2×2)) or LOOM_WINOGRAD=0, read once per process.</summary>
    public static bool Enabled { get; } = ConvWinograd.Enabled && Environment.GetEnvironmentVariable("LOOM_WINOGRAD4") != "0";

    /// <summary>
    /// Whether this shape takes F(4×4) rather than F(2×2) or another path: shape only, never the thread count. Its 36 products
    /// per block of tiles stream 2.25× F(2×2)'s transformed weights for the same tiles, so it needs planes large enough that
    /// few tiles do not pad a GEMM panel and, on all but the largest planes, output channels enough to keep the products ahead
    /// of the transforms.
    /// </summary>
    public static bool Worth(ConvProblem p, Conv3D g) =>
        Enabled && ConvWinograd.Supports(g, p.Group) && p.Channels >= MinChannels && g.OH * g.OW >= MinPositions
        && (p.OutChannels >= MinOutChannels || g.OH * g.OW >= MinPositionsFewOutputs && p.OutChannels >= MinChannels);

    /// <summary>
    /// Thresholds measured per layer at one thread against F(2×2) (docs/performance.md, 2026-11-27): 27×27 and larger with
    /// 64+ output channels win (ResNet-50 0.91–0.93, Inception v1 0.83–0.85, SqueezeNet 0.93–0.94), 14×14 and 13×13 lose
    /// (1.25–1.3); 24–32 output channels lose at 28×28–80×80 (DenseNet-121 1.02–1.11, the detector 1.04–1.09) and win only
    /// at the detector's 160×160 (0.77–0.81).
    /// </summary>
    public const int MinChannels = 16, MinOutChannels = 64, MinPositions = 27 * 27, MinPositionsFewOutputs = 128 * 128;

    /// <summary>Tile grid, padded planes and block size of one shape.</summary>
    public readonly struct Layout
    {
        public Layout(Conv3D g, int channels, int outChannels, int nr)
        {
            OH = g.OH;
            OW = g.OW;
            TilesH = (g.OH + Tile - 1) / Tile;
            TilesW = (g.OW + Tile - 1) / Tile;
            Tiles = TilesH * TilesW;
            // Patches start every 4 rows and columns; rows are split into 4 column phases 32 floats at a time, and the tiles'
            // columns 4 and 5 are phases 0 and 1 of the next tile, so one group of 8 tiles more is read.
            Hp = Tile * TilesH + 2;
            Wp = Tile * GemmCore.RoundUp(TilesW, 8) + 32;
            RowScratch = Tile * GemmCore.RoundUp(TilesW, 8);
            int most = Math.Max(nr, BlockFloats / (Frequencies * (channels + outChannels)) / nr * nr);
            int blocks = (Tiles + most - 1) / most;
            BlockTiles = GemmCore.RoundUp((Tiles + blocks - 1) / blocks, nr);
            Blocks = (Tiles + BlockTiles - 1) / BlockTiles;
            Nr = nr;
        }

        public int OH { get; }
        public int OW { get; }
        public int TilesH { get; }
        public int TilesW { get; }
        public int Tiles { get; }
        public int Hp { get; }
        public int Wp { get; }
        public int PlaneSize => Hp * Wp;
        public int RowScratch { get; }
        public int BlockTiles { get; }
        public int Blocks { get; }
        public int Nr { get; }

        public int PaddedT(int tiles) => GemmCore.RoundUp(tiles, Nr);

        /// <summary>Floats between consecutive V_ξ or M_ξ of a block: one cache line more than the matrix (L1 sets).</summary>
        public long Stride(int rows) => (long)rows * BlockTiles + 16;

        /// <summary>Scratch floats after the products: the 6 input rows split into phases, then 4 output rows.</summary>
        public int Extra => 6 * Wp + Tile * RowScratch + 32;
    }

    /// <summary>
    /// Y = conv(X); <paramref name="whole"/> and <paramref name="slices"/> override how the work is split (tests and
    /// `Loom.Bench wino-split`), which never changes a bit of Y.
    /// </summary>
    public static void Run(ConvProblem p, Conv3D g, ConvWinograd4Weights w, ConvBuffers t, FusedActivation act, WorkerPool? pool,
        bool? whole = null, int? slices = null, bool? transposed = null)
    {
        var ks = w.Kernels;
        int c = p.Channels, k = p.OutChannels, threads = pool?.Threads ?? 1;
        var l = new Layout(g, c, k, ks.NR);
        if (whole ?? ConvWinogradSplit.Whole(Frequencies, c, l.Tiles, ks.NR, threads))
        {
            bool rows = transposed ?? ConvWinogradTransposed.Worth(ks, l.Tiles, c, k);
            ConvWinograd4Whole.Run(p, g, w, t, act, pool, l, rows);
            return;
        }
        float* planes = GemmScratch.ForThread.Extra(checked(c * l.PlaneSize));
        int rowPanels = (k + ks.MR - 1) / ks.MR, kSplit = slices ?? ConvWinograd.Slices(l.Blocks, rowPanels, threads);
        for (int n = 0; n < p.Batch; n++)
        {
            long yOff = (long)n * k * g.OutputSize;
            float* x = t.X + (long)n * c * g.InputSize;
            var fill = new FillJob(x, planes, g, l, c, t.Input, threads == 1 ? 1 : Math.Min(l.Hp, threads * 2));
            Split(pool, fill.Parts, fill);
            var job = new Job(l, w, planes, t.Y + yOff, t.Bias, t.Residual == null ? null : t.Residual + yOff, act, kSplit, rowPanels);
            Split(pool, l.Blocks * kSplit, job);
        }
    }

    private static void Split<TJob>(WorkerPool? pool, int parts, TJob job) where TJob : struct, IParallelJob
    {
        if (pool is null || parts == 1)
            for (int i = 0; i < parts; i++) job.Execute(i);
        else pool.Run(parts, job);
    }

    /// <summary>Bands of plane rows across every channel, with the input's pre-activation.</summary>
    private readonly struct FillJob(float* x, float* planes, Conv3D g, Layout l, int channels, ChannelTransform input, int parts) : IParallelJob
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

    /// <summary>Part = (tile block, slice of output channels): transform the block's input, 36 products, transform back.</summary>
    private readonly struct Job(Layout l, ConvWinograd4Weights w, float* planes, float* y, float* bias, float* residual, FusedActivation act,
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
            float* m = scratch.WinogradProducts(checked((int)(Frequencies * mStride + l.Extra)));
            float* phases = m + Frequencies * mStride + 8, rows = phases + 6 * l.Wp + 8;
            // Columns past the block's last tile are computed and dropped: zero them so no denormal or NaN slows the products.
            if (paddedT != t1 - t0)
                for (int xi = 0; xi < Frequencies; xi++)
                    for (int kb = 0; kb < c; kb += GemmCore.KC)
                    {
                        int kc = Math.Min(GemmCore.KC, c - kb);
                        float* panel = v + xi * vStride + (long)kb * paddedT + (long)(paddedT - l.Nr) * kc;
                        new Span<float>(panel, kc * l.Nr).Clear();
                    }
            ConvWinograd4Transform.Input(l, planes, c, 0, c, t0, t1, v, vStride, l.Nr, phases);
            for (int xi = 0; xi < Frequencies; xi++)
                GemmCore.MultiplyBlock(ks, k0, k1, 0, paddedT, c, w.Packed[xi].AsOperand(), new GemmPackedB.Ref(v + xi * vStride, paddedT),
                    m + xi * mStride, paddedT, false, default(GemmNoEpilogue));
            ConvWinograd4Transform.Output(l, m, mStride, paddedT, k0, k1, t0, t1, y, bias, residual, act, rows);
        }
    }
}
