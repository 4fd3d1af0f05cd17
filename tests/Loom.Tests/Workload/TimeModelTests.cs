using Loom.Inference;
using Loom.IR;
using Loom.Kernels.Common;
using Loom.Scheduling;
using Loom.Workload;
using Loom.Workload.Simulation;

namespace Loom.Tests.WorkloadTests;

/// <summary>
/// The per-kernel-path time model on cases worked out by hand: which path a node takes and the multiply-adds
/// and bytes it does there, the fit of a path's rates to probe samples, and what the simulation charges.
/// </summary>
public sealed class TimeModelTests
{
    private static readonly GemmKernelSet Ks = GemmKernelSet.Current;

    private static long Up(long v, long m) => (v + m - 1) / m * m;

    /// <summary>One layer on x[1, c, size, size] (shapes inferred), and that layer's node.</summary>
    private static (Node Node, Graph Graph) Layer(int c, int size, Func<ProbeNet, string, string> layer)
    {
        var n = new ProbeNet(c, size);
        var model = ShapeInference.Run(n.Build(layer(n, n.Input)));
        return (model.Graph.Nodes[^1], model.Graph);
    }

    private static KernelWork Work((Node Node, Graph Graph) l) => KernelPaths.Of(l.Node, l.Graph, _ => null);

    private static KernelWork ConcatOf((Node Node, Graph Graph) l) => Work((l.Graph.Nodes.Single(n => n.OpType == "Concat"), l.Graph));

    [Fact]
    public void SpatialConvolutionIsAnImplicitGemmOverTheWideColumns()
    {
        // 3×3, 8 → 32 channels (too few for Winograd), 28×28, pad 1: planes 30 wide, the wide columns (27·30 + 28 = 838) computed, K = 8·9.
        var w = Work(Layer(8, 28, (n, x) => n.Conv(x, 32, 3)));
        Assert.Equal(KernelPath.ConvImplicitGemm, w.Path);
        Assert.Equal((double)Up(32, Ks.MR) * Up(27 * 30 + 28, Ks.NR) * 72, w.Macs);
        // x, W, bias, y, and the zero-bordered copy of x (8 planes of 30×30).
        Assert.Equal(4.0 * (8 * 784 + 32 * 8 * 9 + 32 + 32 * 784 + 8 * 30 * 30), w.Bytes);
    }

    [Fact]
    public void LargeThreeByThreeLayersDoSixteenProductsPerTwoByTwoTile()
    {
        if (!ConvWinograd.Enabled) return;
        // 3×3, 64 → 32, 56×56 (32 outputs: F(2×2), not ConvWinograd4): 28×28 = 784 tiles; with 8×32 tiles, blocks of 32 tiles
        // (25 of them, the last 16 tiles padded to a whole panel): 800 tile columns, 32 rows, 64 deep, 16 frequencies:
        // 16·32·800·64, against 9·32·3136·64 directly.
        var w = Work(Layer(64, 56, (n, x) => n.Conv(x, 32, 3)));
        Assert.Equal(KernelPath.ConvWinograd, w.Path);
        if (Ks.MR == 8 && Ks.NR == 32) Assert.Equal(16.0 * 32 * 800 * 64, w.Macs);
        Assert.True(w.Macs < 0.5 * 9 * 32 * 3136 * 64);
        // At 7×7 (16 tiles in a 32-tile panel) it is not worth it (but for 512+ channels with the tiles as rows).
        Assert.NotEqual(KernelPath.ConvWinograd, Work(Layer(256, 7, (n, x) => n.Conv(x, 256, 3))).Path);
    }

    [Fact]
    public void PointwiseConvolutionReadsTheImageAsItIs()
    {
        var w = Work(Layer(64, 28, (n, x) => n.Conv(x, 64, 1)));
        Assert.Equal(KernelPath.ConvPointwise, w.Path);
        Assert.Equal((double)Up(64, Ks.MR) * Up(784, Ks.NR) * 64, w.Macs);
        Assert.Equal(4.0 * (64 * 784 + 64 * 64 + 64 + 64 * 784), w.Bytes);
    }

    [Fact]
    public void FewPositionsPutThePositionsOnTheRowSideOfTheTiles()
    {
        // 7×7 = 49 positions: rows of MR (56 with MR 8) instead of columns of NR (64 with NR 32).
        var w = Work(Layer(256, 7, (n, x) => n.Conv(x, 64, 1)));
        Assert.Equal(KernelPath.ConvFewPositions, w.Path);
        Assert.Equal((double)Up(49, Ks.MR) * Up(64, Ks.NR) * 256, w.Macs);
    }

    [Fact]
    public void StridedPointwiseConvolutionReadsTheSubsampledImage()
    {
        // 1×1 stride 2, 64 → 128, 56 → 28: the image's even rows and columns copied once (one phase plane, 64·784 floats),
        // then a pointwise product over its 784 columns.
        var w = Work(Layer(64, 56, (n, x) => n.Conv(x, 128, 1, stride: 2)));
        Assert.Equal(KernelPath.ConvPointwise, w.Path);
        Assert.Equal((double)Up(128, Ks.MR) * Up(784, Ks.NR) * 64, w.Macs);
        Assert.Equal(4.0 * (64 * 3136 + 128 * 64 + 128 + 128 * 784 + 64 * 784), w.Bytes);
        // At 28 → 14, 196 positions: the few-positions product where they fill MR-row tiles 10 % better than NR columns
        // (AVX-512's 8 × 32: 200 rows against 224 columns), as the kernel chooses.
        var few = Up(196, Ks.MR) * 10 < Up(196, Ks.NR) * 9 ? KernelPath.ConvFewPositions : KernelPath.ConvPointwise;
        Assert.Equal(few, Work(Layer(64, 28, (n, x) => n.Conv(x, 128, 1, stride: 2))).Path);
    }

    [Fact]
    public void NarrowGroupsAreDepthwiseOrDirect()
    {
        var depthwise = Work(Layer(32, 14, (n, x) => n.Conv(x, 32, 3, group: 32)));
        Assert.Equal(KernelPath.ConvDepthwise, depthwise.Path);
        Assert.Equal(196.0 * 32 * 9, depthwise.Macs); // no tiles: one multiply-add per output and tap
        var direct = Work(Layer(32, 14, (n, x) => n.Conv(x, 32, 3, group: 16))); // 2 output channels per group
        Assert.Equal(KernelPath.ConvDirect, direct.Path);
        Assert.Equal(196.0 * 32 * 2 * 9, direct.Macs);
    }

    [Fact]
    public void OtherOperatorsMoveBytes()
    {
        var pool = Work(Layer(8, 10, (n, x) => n.Pool("MaxPool", x, 3, 2, 1)));
        Assert.Equal(KernelPath.Pool, pool.Path);
        Assert.Equal(8.0 * 5 * 5 * 9, pool.Macs); // every output reads its 3×3 window
        Assert.Equal("MaxPool (rows < 8)", pool.Op); // 5-wide output rows: pooled without vectors
        Assert.Equal("MaxPool", Work(Layer(8, 20, (n, x) => n.Pool("MaxPool", x, 3, 2, 1))).Op);
        var global = Work(Layer(8, 10, (n, x) => n.Pool("AveragePool", x, 10, 1))); // the window is the whole image
        Assert.Equal((KernelPath.Elementwise, "GlobalAveragePool"), (global.Path, global.Op));
        var concat = Work(Layer(8, 10, (n, x) => n.Concat(x, x)));
        Assert.Equal((KernelPath.Copy, 4.0 * (800 + 800 + 1600), "Concat"), (concat.Path, concat.Bytes, concat.Op));
        // Branches read by the Concat alone are computed into its output (ConcatPlacement): it moves nothing of theirs;
        // a graph input, not made by a node, is still copied.
        // (Not a graph output: that buffer goes back to the caller.)
        var placed = ConcatOf(Layer(8, 10, (n, x) => n.Relu(n.Concat(n.Relu(x), n.Relu(n.Relu(x))))));
        Assert.Equal((KernelPath.Copy, 0.0, "Concat (in place)"), (placed.Path, placed.Bytes, placed.Op));
        var mixed = ConcatOf(Layer(8, 10, (n, x) => n.Relu(n.Concat(x, n.Relu(x)))));
        Assert.Equal((4.0 * (800 + 800), "Concat"), (mixed.Bytes, mixed.Op));
        var relu = Work(Layer(8, 10, (n, x) => n.Relu(x)));
        Assert.Equal((KernelPath.Elementwise, 0.0, 4.0 * 1600), (relu.Path, relu.Macs, relu.Bytes));
    }

    [Fact]
    public void FitRecoversTheRatesSamplesWereMadeWith()
    {
        // 5 µs per node, 40 GMAC/s, 10 GB/s: the fit must give back exactly these from noiseless samples.
        var truth = new KernelTiming(5e-6, 1 / 40e9, 1 / 10e9);
        var shapes = new (double Macs, double Bytes)[] { (1e6, 2e5), (2e7, 1e6), (5e7, 4e6), (3e6, 3e6), (1e8, 1e6) };
        var samples = shapes.Select(s => new KernelPathSample("Conv", KernelPath.ConvImplicitGemm, s.Macs, s.Bytes, truth.Seconds(s.Macs, s.Bytes)))
            .Concat(new[] { 0.5e6, 1e6, 4e6 }.Select(b => new KernelPathSample("Relu", KernelPath.Elementwise, 0, b, 2e-6 + b / 20e9)))
            .Concat(new[] { 0.5e6, 1e6, 4e6 }.Select(b => new KernelPathSample("BatchNormalization", KernelPath.Elementwise, 0, b, 3e-6 + b / 5e9)))
            .ToList();
        var p = KernelPathProfile.Fit(1, samples, [(10, 20e-6 + 10 * 1e-6), (40, 20e-6 + 40 * 1e-6), (100, 20e-6 + 100 * 1e-6)]);
        var conv = p.Paths[(int)KernelPath.ConvImplicitGemm]!;
        Assert.Equal(5e-6, conv.OverheadSeconds, 1e-9);
        Assert.Equal(1 / 40e9, conv.SecondsPerWork, 1e-15);
        Assert.Equal(1 / 10e9, conv.SecondsPerPackedByte, 1e-15);
        // Element-wise operators keep their own bandwidth: 1 MB of BatchNormalization takes 3 + 200 µs, of Relu 2 + 50 µs.
        Assert.Equal(203e-6, p.Seconds(new KernelWork(KernelPath.Elementwise, 0, 1e6) { Op = "BatchNormalization" }), 1e-9);
        Assert.Equal(52e-6, p.Seconds(new KernelWork(KernelPath.Elementwise, 0, 1e6) { Op = "Relu" }), 1e-9);
        Assert.Equal(20e-6, p.Executor.OverheadSeconds, 1e-9);
        Assert.Equal(1e-6, p.Executor.SecondsPerWork, 1e-12);
    }

    [Fact]
    public void SimulatedStepIsTheNodesInSequencePlusTheExecutor()
    {
        // x[1,8,28,28] → 3×3 conv to 32 channels (implicit GEMM) → Relu. Paths: 2 µs + MACs at 50 GMAC/s + bytes at 25 GB/s (conv),
        // Relu 1 µs + bytes at 10 GB/s; executor 30 µs per run and 4 µs per node.
        var n = new ProbeNet(8, 28);
        var model = ShapeInference.Run(n.Build(n.Relu(n.Conv(n.Input, 32, 3))));
        var paths = new KernelTiming?[Enum.GetValues<KernelPath>().Length];
        paths[(int)KernelPath.ConvImplicitGemm] = new KernelTiming(2e-6, 1 / 50e9, 1 / 25e9);
        paths[(int)KernelPath.Elementwise] = new KernelTiming(1e-6, 0, 1 / 10e9);
        var machine = new KernelPathProfile { Threads = 1, Paths = paths, Executor = new KernelTiming(30e-6, 4e-6) };
        var profile = ModelProfile.Analyze(model, new Dictionary<string, long>(), inferred: true);
        var workload = new WorkloadBuilder(profile, new ParallelStrategy(), new KernelPathTimeModel(machine, profile)).BuildAll();
        var step = new Simulator(new ClusterSpec { Name = "one", Devices = 1 }).Run(workload).StepSeconds;

        double convMacs = (double)Up(32, Ks.MR) * Up(838, Ks.NR) * 72, convBytes = 4.0 * (8 * 784 + 32 * 8 * 9 + 32 + 32 * 784 + 8 * 900);
        double conv = 4e-6 + 2e-6 + convMacs / 50e9 + convBytes / 25e9;
        double relu = 4e-6 + 1e-6 + 4.0 * 2 * 32 * 784 / 10e9;
        Assert.Equal(30e-6 + conv + relu, step, 1e-9);
    }
}
