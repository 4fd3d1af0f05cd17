using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// The whole-plane Winograd products with the tiles as GEMM rows: M_ξᵀ [tiles × K] = V_ξᵀ [tiles × C] · U_ξᵀ [C × K],
/// V written as packed left-operand panels of MR tiles, U_ξᵀ packed once as a right operand. Tiles padded to NR = 32 columns
/// waste a quarter of the products on the 7×7 tile grids of 13×13, 14×14, 27×27 and 28×28 planes (49 tiles computed as 64);
/// as rows they are 6 full MR-row tiles and a 1-row tail (<see cref="GemmRowTailKernels"/>), 49 computed as 49. Each part's
/// M_ξᵀ is transposed back in 8×8 blocks (cheap beside its products at 32+ channels) so the output transforms read M_ξ as
/// before. Every element is the same FMA chain over the channels as in the tile blocks (fma(v, u, acc) = fma(u, v, acc), the
/// row-tail kernel's chain is the main kernel's), so the bits do not change.
/// </summary>
internal readonly unsafe struct ConvWinogradTransposed
{
    /// <summary>Budget in floats for one part's products (as <see cref="ConvWinogradSplit"/>'s).</summary>
    private const int PartFloats = 128 * 1024;

    /// <summary>
    /// AVX-512's 8×32 tiles (the input transform's masked stores write 8-tile panels whole; other kernel sets keep the tile
    /// columns), a tenth or more of the columns padding, and channels enough that the transposes stay small beside the products.
    /// </summary>
    public static bool Worth(GemmKernelSet ks, int tiles, int channels, int outChannels) =>
        ks.MR == 8 && ks.RowTailKernel != null && Avx.IsSupported && channels >= 32 && outChannels % 8 == 0
        && (GemmCore.RoundUp(tiles, ks.NR) - GemmCore.RoundUp(tiles, ks.MR)) * 10 >= GemmCore.RoundUp(tiles, ks.NR);

    public ConvWinogradTransposed(int frequencies, int tiles, int outChannels, int mr, int nr, int threads)
    {
        Mr = mr;
        Nr = nr;
        TilePanels = (tiles + mr - 1) / mr;
        KPanels = (outChannels + nr - 1) / nr;
        // Output-channel chunks first (each thread then reads all of V, the smaller operand, and its share of U), tiles only when
        // the channels run out; halved until a part's products fit, then until every thread has two parts and they divide evenly.
        int kc = KPanels, tc = TilePanels;
        while ((long)frequencies * tc * mr * kc * nr > PartFloats && (kc > 1 || tc > 1))
        {
            if (kc > 1) kc = (kc + 1) / 2;
            else tc = (tc + 1) / 2;
        }
        while (threads > 1 && Chunks(KPanels, kc) * Chunks(TilePanels, tc) is var parts
            && (parts < 2 * threads || parts % threads != 0 && parts < 4 * threads))
        {
            if (kc > 1) kc = (kc + 1) / 2;
            else if (tc > 1) tc = (tc + 1) / 2;
            else break;
        }
        KChunks = Chunks(KPanels, kc);
        TileChunks = Chunks(TilePanels, tc);
        MaxRows = GemmCore.RoundUp(Chunks(TilePanels, TileChunks) * mr, 8);
        MaxCols = GemmCore.RoundUp(Chunks(KPanels, KChunks) * nr, 8);
    }

    public int Mr { get; }
    public int Nr { get; }
    public int TilePanels { get; }
    public int KPanels { get; }
    public int KChunks { get; }
    public int TileChunks { get; }
    public int MaxRows { get; }
    public int MaxCols { get; }

    public int Parts => KChunks * TileChunks;

    /// <summary>Floats between one part's consecutive M_ξᵀ (or M_ξ): one cache line more than the largest part's matrix.</summary>
    public long MStride => (long)MaxRows * MaxCols + 16;

    /// <summary>Tiles [t0, t1) and output channels [k0, k1) of a part (consecutive parts share output channels, tiles vary fastest).</summary>
    public void Range(int part, int tiles, int outChannels, out int t0, out int t1, out int k0, out int k1)
    {
        int kChunk = part / TileChunks, tChunk = part % TileChunks;
        k0 = (int)((long)KPanels * kChunk / KChunks) * Nr;
        k1 = Math.Min(outChannels, (int)((long)KPanels * (kChunk + 1) / KChunks) * Nr);
        t0 = (int)((long)TilePanels * tChunk / TileChunks) * Mr;
        t1 = Math.Min(tiles, (int)((long)TilePanels * (tChunk + 1) / TileChunks) * Mr);
    }

    /// <summary>Floats of the one M_ξᵀ a part keeps at a time (<see cref="Products"/>'s <c>mt</c>).</summary>
    public int TransposedFloats => MaxRows * MaxCols + 16;

    /// <summary>
    /// M_ξᵀ of tiles [t0, t1) × output channels [k0, k1), one ξ at a time into <paramref name="mt"/> (rows of RoundUp(k1 − k0, 8); it
    /// stays in L1/L2), each transposed into <paramref name="m"/> as channel rows of RoundUp(t1 − t0, 8) tiles:
    /// M_ξ[k, t] at m + ξ·mStride + (k − k0)·ldm + t − t0.
    /// </summary>
    public static void Products(GemmKernelSet ks, int frequencies, int channels, float* v, long vStride, int paddedTiles, GemmPackedB[] ut,
        int t0, int t1, int k0, int k1, float* mt, float* m, long mStride, out int ldm)
    {
        int rows = t1 - t0, cols = k1 - k0, rowsP = GemmCore.RoundUp(rows, 8), colsP = GemmCore.RoundUp(cols, 8);
        ldm = rowsP;
        // M_ξᵀ addressed from C[0, 0]: tile t, channel k at mt + (t − t0)·colsP + k − k0.
        float* origin = mt - (long)t0 * colsP - k0;
        // The rows past the last tile go through the transposes into lanes the output transform computes and drops: zeros, so no
        // NaN or denormal meets its additions (the products never write them).
        if (rowsP > rows) new Span<float>(mt + (long)rows * colsP, (rowsP - rows) * colsP).Clear();
        for (int xi = 0; xi < frequencies; xi++)
        {
            GemmCore.MultiplyBlock(ks, t0, t1, k0, k1, channels, new GemmPackedA.Ref(v + xi * vStride, paddedTiles), ut[xi].AsOperand(),
                origin, colsP, false, default(GemmNoEpilogue));
            float* dst = m + xi * mStride;
            for (int i = 0; i < rowsP; i += 8)
                for (int j = 0; j < colsP; j += 8)
                    GemmTranspose.Block8x8(mt + (long)i * colsP + j, colsP, dst + (long)j * rowsP + i, rowsP);
        }
    }

    /// <summary>U_ξᵀ [C × K] packed as right operands, read back from the packed U_ξ [K × C] (made once per node, on first use).</summary>
    /// <summary>
    /// U_ξᵀ for both tile sizes' weights, packed on first use into <paramref name="slot"/>: two threads may both
    /// pack, one result is kept.
    /// </summary>
    internal static GemmPackedB[] PackedOnce(ref GemmPackedB[]? slot, GemmPackedA[] packed, int outChannels, int channels)
    {
        if (Volatile.Read(ref slot) is { } done) return done;
        var made = PackTransposed(packed, outChannels, channels);
        return Interlocked.CompareExchange(ref slot, made, null) ?? made;
    }

    public static GemmPackedB[] PackTransposed(GemmPackedA[] packed, int outChannels, int channels)
    {
        var result = new GemmPackedB[packed.Length];
        var u = new float[Math.Max(1, outChannels * channels)];
        fixed (float* pu = u)
            for (int xi = 0; xi < packed.Length; xi++)
            {
                var a = packed[xi];
                int mr = a.Kernels.MR;
                var at = a.AsOperand();
                for (int kb = 0; kb < channels; kb += GemmCore.KC)
                {
                    int kc = Math.Min(GemmCore.KC, channels - kb);
                    for (int i = 0; i < outChannels; i++)
                    {
                        float* panel = at.Packed(i / mr * mr, kb, kc) + i % mr;
                        for (int c = 0; c < kc; c++) pu[(long)i * channels + kb + c] = panel[c * mr];
                    }
                }
                result[xi] = new GemmPackedB(a.Kernels, channels, outChannels, pu, channels, transposed: true);
            }
        return result;
    }

    private static int Chunks(int total, int each) => (total + each - 1) / each;
}
