namespace Loom.Kernels.Common;

/// <summary>
/// How a Winograd layer whose transformed input V for the whole plane is small (SqueezeNet's, DenseNet's and Inception's
/// small layers, 28×28 ones of up to 128 channels) is split over threads: first every channel's padded plane and V for all
/// tiles, by channel groups (each transformed once, however many threads); then parts of (output-channel rows × tile
/// columns) that multiply U_ξ·V_ξ and transform their products back.
/// Tile blocks split these layers badly: 13×13 and 27×27 planes have 49 tiles, two 32-tile blocks, and slicing a block's
/// output channels made every slice transform the block's input again. The parts only choose which thread computes which
/// outputs: every element is the same transforms and the same GEMM sums over all input channels, so the bits do not depend
/// on the split or the thread count.
/// </summary>
internal readonly struct ConvWinogradSplit
{
    /// <summary>
    /// Budget in floats for V of the whole plane (2.03 MiB: each core's 1 MiB L2 holds what its parts read most, the shared
    /// L3 the rest). It takes ResNet-50's and Inception v1's 28×28 F(4×4) layers (up to 128 channels, 1.15 MiB), which the
    /// tile blocks split 1.4–1.6× over two threads and the whole plane 1.75–1.9× (`Loom.Bench wino-split`, fastest runs),
    /// and ResNet-50's 56×56 64→64 F(4×4) layers (1.97 MiB): their 7 tile blocks are sliced into 14 parts that each transform
    /// their block's input again, 0.69–0.70 ms at two threads against 0.55–0.57 ms for the whole plane with the tiles as GEMM
    /// rows (wino-split, fastest of 60–150 runs, 2026-11-27 13:02). DenseNet-121's 128→32 at 28×28 (F(2×2), 1.75 MiB) comes
    /// along: 0.33 ms whole against 0.39–0.40 ms in tile blocks at two threads. (These were measured on the 117 GFLOP/s host
    /// before 2026-11-28; on its AVX-512 successor the unsliced blocks win wherever they balance the threads, so those layers
    /// no longer come here.)
    /// </summary>
    private const int WholeFloats = 520 * 1024;

    /// <summary>
    /// Budget in floats for one part's products M (512 KiB). Parts this large were as fast as half of it on SqueezeNet's layers
    /// at two threads, and there are fewer of them to hand out.
    /// </summary>
    private const int PartFloats = 128 * 1024;

    /// <summary>Budget in floats for V of the whole plane at one thread (1.25 MiB, what one core's L2 and its share of L3 keep).</summary>
    private const int AloneFloats = 320 * 1024;

    /// <summary>
    /// Input channels below which one thread keeps the tile blocks even with tile rows: SqueezeNet's 32→128 at 27×27 and 48→192
    /// at 13×13 ran 2–3% slower as tile rows (profile --min, three alternated rounds, 2026-11-27 13:21), its 64→256 as fast.
    /// </summary>
    private const int AloneMinChannels = 128;

    /// <summary>
    /// Weights (U for every frequency) of at least this many bytes, and at least <see cref="WeightsOverInput"/> times V,
    /// take the whole plane even where the tile blocks balance the threads. Each tile block multiplies by all of U, so with a
    /// block per thread both cores stream the whole of U; the whole plane's parts split the output channels, and each core
    /// streams its share of U and reads V, which is shared. ResNet-50's five 256→256 3×3 layers at 14×14 (U 4 MiB, V 1 MiB)
    /// took 0.60–0.63 ms at two threads in the model against 0.76–0.90 ms in tile blocks, and the whole model 33.8–34.8 ms against
    /// 35.4–36.3 (`profile --threads 2 --nodes --min`, three alternated rounds, 2026-11-28 22:20 UTC; no other ResNet-50 layer
    /// moved, nor any Inception v1/v2 or DenseNet-121 layer by more than 15%). Its 128→128 at 28×28 (U 2.3 MiB, twice V)
    /// was mixed (0.66–0.73 against 0.53–0.79), and the 64→64 at 56×56 (U a quarter of V) 30% slower, so those stay in blocks;
    /// so do SqueezeNet's 13×13 layers, whose U of at most 1 MiB stays in cache (stop 30: blocks 0.158 against 0.177 ms
    /// whole). LOOM_WINO_WEIGHTS=0 turns this rule off, for A/B runs.
    /// </summary>
    private const long StreamedWeightBytes = 2L << 20;

    /// <summary>How many times V's size U must be for the whole plane to win (see <see cref="StreamedWeightBytes"/>).</summary>
    private const int WeightsOverInput = 3;

    /// <summary>
    /// Whether to split this way: with threads, when V for every tile of the plane fits the budget and either the layer's
    /// <paramref name="blocks"/> of tiles do not balance the threads by themselves (<see cref="ConvWinograd.BlocksBalance"/>:
    /// on the AVX-512 host of 2026-11-28 whole blocks beat the whole plane wherever they balance, unless the weights dominate:
    /// <see cref="StreamedWeightBytes"/>). One thread keeps the tile
    /// blocks, whose V is still in cache when its products are taken (the whole plane measured 1–5% slower on SqueezeNet's
    /// layers, thread CPU time), unless the tiles run as GEMM rows (<paramref name="tileRows"/>,
    /// <see cref="ConvWinogradTransposed"/>), V stays within <see cref="AloneFloats"/> and channels are many: ResNet-50's
    /// 256→256 at 14×14 took 1.19 ms against 1.32 in tile blocks, its 128→128 at 28×28 0.95 against 0.99 (wino-split, one
    /// thread, fastest of 100 runs, 2026-11-27 13:08); its 64→64 at 56×56 (2 MiB of V) was 3–7% slower so, and stays. The
    /// choice moves no bit, since all compute every output element alike.
    /// </summary>
    public static bool Whole(int frequencies, int channels, int outChannels, int tiles, int nr, int threads, bool tileRows, int blocks)
    {
        long v = (long)frequencies * channels * GemmCore.RoundUp(tiles, nr);
        if (threads == 1) return tileRows && v <= AloneFloats && channels >= AloneMinChannels;
        if (v > WholeFloats) return false;
        long u = (long)frequencies * channels * outChannels;
        return !ConvWinograd.BlocksBalance(blocks, threads) || s_weights && u * sizeof(float) >= StreamedWeightBytes && u >= WeightsOverInput * v;
    }

    private static readonly bool s_weights = Environment.GetEnvironmentVariable("LOOM_WINO_WEIGHTS") != "0";

    public ConvWinogradSplit(int frequencies, int channels, int outChannels, int paddedT, int mr, int nr, int threads)
    {
        Mr = mr;
        Nr = nr;
        RowPanels = (outChannels + mr - 1) / mr;
        ColPanels = paddedT / nr;
        // Halve the larger side of a part until its products fit; then, with threads, halve rows until every thread has two parts
        // and the parts divide evenly among the threads (the pool hands them out one at a time: a thread that starts late still
        // finds work, and none is left with one part more than the others when all parts cost the same).
        int rp = RowPanels, cp = ColPanels;
        while ((long)frequencies * rp * mr * cp * nr > PartFloats && (rp > 1 || cp > 1))
        {
            if (cp > 1 && (cp * nr >= rp * mr || rp == 1)) cp = (cp + 1) / 2;
            else rp = (rp + 1) / 2;
        }
        while (threads > 1 && rp > 1 && Chunks(RowPanels, rp) * Chunks(ColPanels, cp) is var parts
            && (parts < 2 * threads || parts % threads != 0 && parts < 4 * threads))
            rp = (rp + 1) / 2;
        RowChunks = Chunks(RowPanels, rp);
        ColGroups = Chunks(ColPanels, cp);
        MaxRows = Chunks(RowPanels, RowChunks) * mr;
        MaxCols = Chunks(ColPanels, ColGroups) * nr;
        ChannelParts = threads == 1 ? 1 : Math.Min(channels, 4 * threads);
    }

    public int Mr { get; }
    public int Nr { get; }
    public int RowPanels { get; }
    public int ColPanels { get; }
    public int RowChunks { get; }
    public int ColGroups { get; }
    public int MaxRows { get; }
    public int MaxCols { get; }

    /// <summary>Parts of the first step (channel groups of planes and V).</summary>
    public int ChannelParts { get; }

    /// <summary>Parts of the second step (products and output).</summary>
    public int Parts => RowChunks * ColGroups;

    /// <summary>Floats between one part's consecutive M_ξ: one cache line more than the largest part's matrix (L1 sets).</summary>
    public long MStride => (long)MaxRows * MaxCols + 16;

    /// <summary>Output channels [k0, k1) and V columns (tiles) [j0, j1) of a part; k0 a multiple of MR, j0 and j1 of NR.</summary>
    public void Range(int part, int outChannels, out int k0, out int k1, out int j0, out int j1)
    {
        int r = part / ColGroups, g = part % ColGroups;
        k0 = (int)((long)RowPanels * r / RowChunks) * Mr;
        k1 = Math.Min(outChannels, (int)((long)RowPanels * (r + 1) / RowChunks) * Mr);
        j0 = (int)((long)ColPanels * g / ColGroups) * Nr;
        j1 = (int)((long)ColPanels * (g + 1) / ColGroups) * Nr;
    }

    /// <summary>Channels [c0, c1) of a first-step part.</summary>
    public void Channels(int part, int channels, out int c0, out int c1)
    {
        c0 = (int)((long)channels * part / ChannelParts);
        c1 = (int)((long)channels * (part + 1) / ChannelParts);
    }

    /// <summary>
    /// Zeroes V's lanes past the last tile for channels [c0, c1), so the products of the columns computed and dropped see no
    /// denormal or NaN.
    /// </summary>
    public static unsafe void ClearPadding(float* v, long vStride, int frequencies, int channels, int c0, int c1, int tiles, int paddedT, int nr)
    {
        if (tiles == paddedT) return;
        for (int xi = 0; xi < frequencies; xi++)
            for (int c = c0; c < c1; c++)
            {
                int kb = c / GemmCore.KC * GemmCore.KC, kc = Math.Min(GemmCore.KC, channels - kb);
                new Span<float>(v + xi * vStride + (long)kb * paddedT + (long)(paddedT - nr) * kc + (long)(c - kb) * nr, nr).Clear();
            }
    }

    private static int Chunks(int total, int each) => (total + each - 1) / each;
}
