using Loom.Kernels.Common;
using Loom.Runtime.Threading;
using Xunit;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// The two ways a Winograd layer is split over threads — tile blocks, or (for planes whose transformed input is small)
/// the whole plane's V by channel groups and then (output rows × tile columns) parts (<see cref="ConvWinogradSplit"/>) —
/// must give the same bits as each other at 1, 2 and 3 threads, for F(2×2) and F(4×4), and stay within the float64
/// definition's tolerance; the parts must cover every output exactly once.
/// </summary>
public sealed unsafe class ConvWinogradSplitTests
{
    // x shape, output channels, pads (top, left, bottom, right): SqueezeNet-like planes with fewer output channels (several
    // column groups at 45×45, several row chunks elsewhere), channels and outputs that are no multiple of the micro-tile,
    // two depth blocks, batch 2 and an asymmetric padding.
    private static readonly (int[] X, int M, int[] P)[] Cases =
    [
        ([1, 16, 45, 45], 32, [1, 1, 1, 1]),
        ([1, 32, 27, 27], 64, [1, 1, 1, 1]),
        ([1, 48, 13, 13], 96, [1, 1, 1, 1]),
        ([1, 64, 13, 13], 128, [1, 1, 1, 1]),
        ([2, 17, 14, 15], 20, [0, 0, 0, 0]),
        ([1, 300, 9, 10], 19, [1, 1, 1, 1]),
        ([1, 33, 23, 18], 40, [1, 2, 0, 1]),
        ([1, 64, 56, 56], 64, [1, 1, 1, 1]), // ResNet-50's first stage: 196 tiles, whole plane with tile rows at two threads
        ([1, 512, 7, 7], 512, [1, 1, 1, 1]),  // ResNet-50's last stage: 16 tiles as rows (ConvWinograd.MinPositionsAsRows)
    ];

    [Fact]
    public void BothSplitsGiveTheSameBitsAtEveryThreadCount()
    {
        using var pool2 = new WorkerPool(2);
        using var pool3 = new WorkerPool(3);
        WorkerPool?[] pools = [null, pool2, pool3];
        var relu = new FusedActivation(ActivationKind.Relu);
        int seed = 0;
        foreach (var c in Cases)
        {
            seed++;
            int[] ws = [c.M, c.X[1], 3, 3];
            var x = Random(Size(c.X), seed);
            var w = Random(Size(ws), seed + 100);
            var b = Random(c.M, seed + 200);
            var scale = Random(c.X[1], seed + 400).Select(v => v + 1.5f).ToArray();
            var shift = Random(c.X[1], seed + 500);
            var xt = x.Select((v, i) => Math.Max(v * scale[i / (c.X[2] * c.X[3]) % c.X[1]] + shift[i / (c.X[2] * c.X[3]) % c.X[1]], 0f)).ToArray();
            var exact = ConvTests.NaiveConv(xt, c.X, w, ws, b, 1, [1, 1], c.P, [1, 1], out var shape);
            // An upper bound of every output's Σ|x·w| (AssertClose's scale): max |x| times the largest output channel's Σ|w|, plus |b|.
            int fan = c.X[1] * 9;
            double most = xt.Max(Math.Abs) * Enumerable.Range(0, c.M).Max(m => w.Skip(m * fan).Take(fan).Sum(Math.Abs)) + b.Max(Math.Abs);
            double[] magnitude = [most];
            var z = Random(Size(shape), seed + 300);
            var fused = exact.Select((v, i) => Math.Max(v + z[i], 0)).ToArray();
            foreach (int tile in new[] { 2, 4 })
            {
                string what = $"F({tile}×{tile}) case {seed}";
                var reference = WinogradCalls.Run(tile, GemmKernelSet.Best, c.X, c.M, c.P, x, w, b, z, relu, null, out _, (scale, shift), whole: false);
                ConvWinograd4Tests.AssertClose(fused, reference, magnitude, what);
                foreach (var pool in pools)
                    foreach (var (whole, rows) in new (bool, bool?)[] { (false, null), (true, false), (true, null) })
                        Assert.True(reference.AsSpan().SequenceEqual(WinogradCalls.Run(tile, GemmKernelSet.Best, c.X, c.M, c.P, x, w, b, z, relu, pool, out _, (scale, shift), whole, rows)),
                            $"{what}: {(whole ? rows == false ? "whole plane, tile columns" : "whole plane" : "tile blocks")} on {pool?.Threads ?? 1} threads differs from tile blocks on one");
            }
        }
    }

    [Fact]
    public void PartsCoverEveryOutputOnceAndFitTheirScratch()
    {
        foreach (int f in new[] { 16, 36 })
            foreach (int k in new[] { 7, 19, 64, 256 })
                foreach (int tiles in new[] { 1, 49, 196, 400 })
                    foreach (int threads in new[] { 1, 2, 3, 4 })
                    {
                        int mr = 8, nr = 32, paddedT = (tiles + nr - 1) / nr * nr;
                        var s = new ConvWinogradSplit(f, 64, k, paddedT, mr, nr, threads);
                        var seen = new int[k, paddedT];
                        for (int part = 0; part < s.Parts; part++)
                        {
                            s.Range(part, k, out int k0, out int k1, out int j0, out int j1);
                            Assert.True(k0 % mr == 0 && j0 % nr == 0 && j1 % nr == 0, $"part {part}: unaligned");
                            Assert.True(k1 - k0 <= s.MaxRows && j1 - j0 <= s.MaxCols, $"part {part} is larger than its scratch");
                            for (int i = k0; i < k1; i++)
                                for (int j = j0; j < j1; j++) seen[i, j]++;
                        }
                        Assert.All(seen.Cast<int>(), n => Assert.Equal(1, n));
                        var covered = new int[64];
                        for (int part = 0; part < s.ChannelParts; part++)
                        {
                            s.Channels(part, 64, out int c0, out int c1);
                            for (int ch = c0; ch < c1; ch++) covered[ch]++;
                        }
                        Assert.All(covered, n => Assert.Equal(1, n));
                        // With threads, enough parts that a late thread still finds work, as far as the rows allow.
                        if (threads > 1) Assert.True(s.Parts >= Math.Min(2 * threads, s.RowPanels), $"{s.Parts} parts for {threads} threads");
                    }
    }

    [Fact]
    public void TakesTheWholePlaneOnlyWithSeveralThreadsWhenItsInputIsSmallAndTheBlocksDoNotBalanceOrTheWeightsDominate()
    {
        Assert.False(ConvWinogradSplit.Whole(16, 64, 256, 49, 32, 1, false, 2));   // one thread: the tile blocks keep V in cache
        Assert.True(ConvWinogradSplit.Whole(16, 256, 256, 49, 32, 1, true, 2));    // ... unless the tiles run as rows: ResNet-50 256→256 at 14×14
        Assert.False(ConvWinogradSplit.Whole(36, 64, 64, 196, 32, 1, true, 7));   // ... and V is small: not ResNet-50 64→64 at 56×56
        Assert.False(ConvWinogradSplit.Whole(16, 48, 192, 49, 32, 1, true, 2));    // ... and channels are many: not SqueezeNet 48→192 at 13×13
        Assert.True(ConvWinogradSplit.Whole(16, 512, 512, 16, 32, 2, true, 1));    // ResNet-50 512→512 at 7×7: one block for two threads
        Assert.True(ConvWinogradSplit.Whole(36, 64, 64, 196, 32, 2, true, 3));    // three blocks would leave one thread a block behind
        Assert.False(ConvWinogradSplit.Whole(16, 64, 256, 49, 32, 2, false, 2));   // SqueezeNet 64→256 at 13×13: a block per thread
        Assert.False(ConvWinogradSplit.Whole(36, 16, 64, 196, 32, 2, false, 7));  // SqueezeNet 16→64 at 55×55, F(4×4): 7 blocks
        Assert.False(ConvWinogradSplit.Whole(36, 128, 128, 196, 32, 2, true, 1));  // 128 channels at 56×56: 3.9 MiB of V
        Assert.True(ConvWinogradSplit.Whole(16, 256, 256, 49, 32, 2, false, 2));  // ResNet-50 256→256 at 14×14: each block would stream all 4 MiB of U
        Assert.False(ConvWinogradSplit.Whole(36, 128, 128, 49, 32, 2, false, 2)); // ... but not its 128→128 at 28×28, U only twice V
        Assert.False(ConvWinogradSplit.Whole(36, 64, 64, 196, 32, 2, false, 7));  // ... nor its 64→64 at 56×56, U a quarter of V
    }

    [Fact]
    public void TakesTheTileRowsWhereTileColumnsPadMost()
    {
        if (GemmKernelSet.Avx512 is not { } ks) return; // the tile rows are for AVX-512's 8×32 tiles only
        Assert.True(ConvWinogradTransposed.Worth(ks, 49, 64, 256));   // SqueezeNet 64→256 at 13×13: 49 tiles in 64 columns
        Assert.True(ConvWinogradTransposed.Worth(ks, 49, 32, 128));   // SqueezeNet 32→128 at 27×27, F(4×4)
        Assert.False(ConvWinogradTransposed.Worth(ks, 196, 16, 64));  // SqueezeNet 16→64 at 55×55: the transposes would cost more
        Assert.False(ConvWinogradTransposed.Worth(ks, 64, 64, 64));   // whole panels
        Assert.False(ConvWinogradTransposed.Worth(ks, 49, 64, 19));   // output channels no multiple of 8
        if (GemmKernelSet.Avx2 is { } avx2) Assert.False(ConvWinogradTransposed.Worth(avx2, 49, 64, 256));
    }

    [Fact]
    public void TileRowPartsCoverEveryOutputOnceAndFitTheirScratch()
    {
        foreach (int f in new[] { 16, 36 })
            foreach (int k in new[] { 8, 40, 64, 192, 256, 512 })
                foreach (int tiles in new[] { 1, 49, 110, 196 })
                    foreach (int threads in new[] { 1, 2, 3, 4 })
                    {
                        var s = new ConvWinogradTransposed(f, tiles, k, 8, 32, threads);
                        var seen = new int[tiles, k];
                        for (int part = 0; part < s.Parts; part++)
                        {
                            s.Range(part, tiles, k, out int t0, out int t1, out int k0, out int k1);
                            Assert.True(t0 % 8 == 0 && k0 % 32 == 0, $"part {part}: unaligned");
                            Assert.True(GemmCore.RoundUp(t1 - t0, 8) <= s.MaxRows && GemmCore.RoundUp(k1 - k0, 8) <= s.MaxCols, $"part {part} is larger than its scratch");
                            for (int t = t0; t < t1; t++)
                                for (int j = k0; j < k1; j++) seen[t, j]++;
                        }
                        Assert.All(seen.Cast<int>(), n => Assert.Equal(1, n));
                        // Parts the threads share evenly, unless they are many or as fine as the panels allow.
                        if (threads > 1) Assert.True(s.Parts % threads == 0 || s.Parts >= 4 * threads || s.Parts == s.KPanels * s.TilePanels,
                            $"{s.Parts} parts for {threads} threads");
                    }
    }
}
