namespace Loom.Kernels.Common;

/// <summary>Tile grid, padded planes and block size of one shape at one Winograd tile size (<see cref="For{T}"/>).</summary>
internal readonly struct ConvWinogradLayout
{
    /// <summary>
    /// Budget in floats for one block's V and M (384 KiB, well inside the core's 1 MiB L2 beside the U_ξ streaming through).
    /// ResNet-50's 3×3 layers ran 3% faster than with twice this, which left 56×56's blocks at 48 tiles; most layers get
    /// one panel of NR tiles per block. F(4×4) uses the same budget.
    /// </summary>
    private const int BlockFloats = 96 * 1024;

    public static ConvWinogradLayout For<T>(Conv3D g, int channels, int outChannels, int nr) where T : struct, IWinogradTiles =>
        new(g, channels, outChannels, nr, T.Tile, T.PadColumns);

    private ConvWinogradLayout(Conv3D g, int channels, int outChannels, int nr, int tile, int padColumns)
    {
        int frequencies = (tile + 2) * (tile + 2);
        OH = g.OH;
        OW = g.OW;
        TilesH = (g.OH + tile - 1) / tile;
        TilesW = (g.OW + tile - 1) / tile;
        Tiles = TilesH * TilesW;
        // Patches start every m rows and columns from the top-left padding; rows hold whole groups of 8 tiles and the
        // columns the input transform reads past them (F(2×2): 2; F(4×4): its 32-float column phases).
        Hp = tile * TilesH + 2;
        Wp = tile * GemmCore.RoundUp(TilesW, 8) + padColumns;
        RowScratch = tile * GemmCore.RoundUp(TilesW, 8);
        int most = Math.Max(nr, BlockFloats / (frequencies * (channels + outChannels)) / nr * nr);
        int blocks = (Tiles + most - 1) / most;
        BlockTiles = GemmCore.RoundUp((Tiles + blocks - 1) / blocks, nr);
        Blocks = (Tiles + BlockTiles - 1) / BlockTiles;
        Nr = nr;
        OutputRows = tile;
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

    /// <summary>Output rows one tile row makes (m): the output transform keeps them in m rows of <see cref="RowScratch"/>.</summary>
    public int OutputRows { get; }

    public int PaddedT(int tiles) => GemmCore.RoundUp(tiles, Nr);

    /// <summary>Floats between consecutive V_ξ or M_ξ of a block: one cache line more than the matrix, so the streams do not share L1 sets.</summary>
    public long Stride(int rows) => (long)rows * BlockTiles + 16;
}
