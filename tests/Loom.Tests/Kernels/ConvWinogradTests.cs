using Loom.IR;
using Loom.Kernels.Common;
using Loom.Runtime.Threading;
using Attr = Loom.IR.Attribute;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// Winograd F(2×2, 3×3) and F(4×4, 3×3) (<see cref="ConvWinograd{T}"/>) against the float64 definition of Conv: odd and even
/// planes, paddings 0, 1, 2 and asymmetric, channel counts that are no multiple of the tiles (and more than one GEMM depth
/// block), several tile blocks, batch 2, bias, residual, activation and the pre-activation; the kernel is called directly,
/// so shapes the path would not choose are covered too. Two threads must give the one-thread bits. F(2×2)'s choice of
/// layers is tested here, F(4×4)'s and its accuracy on model-shaped layers in <see cref="ConvWinograd4Tests"/>.
/// </summary>
public sealed unsafe class ConvWinogradTests
{
    // x shape, output channels, pads (top, left, bottom, right)
    private static readonly (int[] X, int M, int[] P)[] Cases =
    [
        ([1, 5, 9, 11], 7, [1, 1, 1, 1]),
        ([2, 17, 14, 15], 20, [0, 0, 0, 0]),
        ([1, 3, 6, 40], 9, [2, 2, 2, 2]),
        ([1, 33, 23, 18], 40, [1, 2, 0, 1]),
        ([1, 300, 9, 10], 19, [1, 1, 1, 1]),   // two depth blocks of 256 channels
        ([1, 8, 66, 70], 12, [1, 1, 1, 1]),    // several tile blocks, rows split between blocks
    ];

    public static TheoryData<int, string> TilesAndSets()
    {
        var d = new TheoryData<int, string>();
        foreach (int tile in new[] { 2, 4 })
            foreach (var ks in GemmKernelSet.Supported) d.Add(tile, ks.Name);
        return d;
    }

    [Theory, MemberData(nameof(TilesAndSets))]
    public void MatchesTheDefinitionAndIsIdenticalOnTwoThreads(int tile, string set)
    {
        var ks = GemmKernelSet.Supported.Single(k => k.Name == set);
        using var pool = new WorkerPool(2);
        int seed = 0;
        foreach (var c in Cases)
        {
            seed++;
            int[] w = [c.M, c.X[1], 3, 3];
            var x = Random(Size(c.X), seed);
            var wt = Random(Size(w), seed + 100);
            var b = Random(c.M, seed + 200);
            var expected = ConvTests.NaiveConv(x, c.X, wt, w, b, 1, [1, 1], c.P, [1, 1], out var shape);
            var scale = Magnitude(x, c.X, wt, w, b, c.P);
            var z = Random(Size(shape), seed + 300);
            // Plain, then with bias + residual + Relu: the epilogue applies bias, then the residual, then the activation.
            var fused = expected.Select((v, i) => Math.Max(v + z[i], 0)).ToArray();
            var plain = ConvTests.NaiveConv(x, c.X, wt, w, null, 1, [1, 1], c.P, [1, 1], out _);
            string what = $"F({tile}×{tile}) {set} case {seed}";
            var one = WinogradCalls.Run(tile, ks, c.X, c.M, c.P, x, wt, null, null, FusedActivation.None, null, out var problem);
            Assert.Equal(shape, problem.OutputShape);
            Check(tile, plain, one, scale, what);
            var relu = new FusedActivation(ActivationKind.Relu);
            var fusedOne = WinogradCalls.Run(tile, ks, c.X, c.M, c.P, x, wt, b, z, relu, null, out _);
            Check(tile, fused, fusedOne, scale, what + " fused");
            Assert.Equal(fusedOne, WinogradCalls.Run(tile, ks, c.X, c.M, c.P, x, wt, b, z, relu, pool, out _));
            Assert.Equal(one, WinogradCalls.Run(tile, ks, c.X, c.M, c.P, x, wt, null, null, FusedActivation.None, pool, out _));
            // An activation the store does not fuse (applied by FusedActivation.ApplyRow), bias only.
            var sigmoid = expected.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();
            Check(tile, sigmoid, WinogradCalls.Run(tile, ks, c.X, c.M, c.P, x, wt, b, null, new FusedActivation(ActivationKind.Sigmoid), pool, out _),
                scale, what + " sigmoid");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void AppliesThePreActivationBeforeTheZeroPadding(int tile)
    {
        int[] xs = [1, 6, 13, 12], ws = [10, 6, 3, 3], pads = [1, 1, 1, 1];
        var x = Random(Size(xs), 1);
        var w = Random(Size(ws), 2);
        var scale = Random(6, 3);
        var shift = Random(6, 4);
        int plane = 13 * 12;
        var xt = x.Select((v, i) => Math.Max(v * scale[i / plane] + shift[i / plane], 0f)).ToArray();
        var expected = ConvTests.NaiveConv(xt, xs, w, ws, null, 1, [1, 1], pads, [1, 1], out _);
        var y = WinogradCalls.Run(tile, GemmKernelSet.Best, xs, 10, pads, x, w, null, null, FusedActivation.None, null, out _, (scale, shift));
        Check(tile, expected, y, Magnitude(xt, xs, w, ws, null, pads), "pre-activation");
    }

    /// <summary>
    /// F(2×2)'s transforms only add and subtract: within 1e-4 of each value. F(4×4)'s mix a whole 6×6 patch with coefficients
    /// up to 8 and weights that round: held to the patch's magnitude (<see cref="ConvWinograd4Tests.AssertClose"/>).
    /// </summary>
    private static void Check(int tile, double[] expected, float[] actual, double[] magnitude, string what)
    {
        if (tile == 2) AssertNear(expected, actual, what);
        else ConvWinograd4Tests.AssertClose(expected, actual, magnitude, what);
    }

    /// <summary>Σ|x·w| (+ |b|) per output: float error grows with it, and unnormalised weights make it far larger than the result.</summary>
    private static double[] Magnitude(float[] x, int[] xs, float[] w, int[] ws, float[]? b, int[] pads) =>
        ConvTests.NaiveConv(Abs(x), xs, Abs(w), ws, b is null ? null : Abs(b), 1, [1, 1], pads, [1, 1], out _);

    private static float[] Abs(float[] a) => a.Select(v => Math.Abs(v)).ToArray();

    /// <summary>A ResNet-sized layer through a session picks the path (its shape is worth it) and still matches the definition.</summary>
    [Fact]
    public void ASessionRunsAWorthwhileLayerThroughIt()
    {
        int[] xs = [1, 32, 16, 16], ws = [32, 32, 3, 3];
        var attrs = ConvAttrs(1, [1, 1], [1, 1, 1, 1], [1, 1]);
        var geo = new Conv3D(ConvGeometry.Compute(Attrs(attrs), xs[2..], ws[2..], pool: false, m => new InvalidOperationException(m)));
        var problem = Problem(xs, ws, attrs);
        Assert.True(ConvWinograd.Worth(problem, geo, GemmKernelSet.Current) || !ConvWinograd.Enabled);
        var x = Random(Size(xs), 7);
        var w = Random(Size(ws), 8);
        var b = Random(32, 9);
        var expected = ConvTests.NaiveConv(x, xs, w, ws, b, 1, [1, 1], [1, 1, 1, 1], [1, 1], out _);
        AssertNear(expected, RunOne("Conv", "", attrs, 2, F(x, xs), F(w, ws), F(b, 32)).ToArray<float>(), "session");
    }

    [Fact]
    public void TakesOnlyThreeByThreeStrideOneSingleGroupLayersWithEnoughPositionsAndChannels()
    {
        bool Worth(int c, int m, int h, int k, int s, int d, int group)
        {
            int[] xs = [1, c, h, h], ws = [m, c / group, k, k];
            var attrs = ConvAttrs(group, [s, s], [1, 1, 1, 1], [d, d]);
            var p = Problem(xs, ws, attrs);
            return ConvWinograd.Worth(p, new Conv3D(p.Geometry), GemmKernelSet.Current);
        }
        if (!ConvWinograd.Enabled) return;
        Assert.True(Worth(64, 64, 56, 3, 1, 1, 1));
        Assert.True(Worth(256, 256, 14, 3, 1, 1, 1));
        Assert.False(Worth(256, 256, 7, 3, 1, 1, 1));   // too few tiles for whole GEMM panels
        // ... unless they run as GEMM rows (AVX-512's 8×32 tiles) with channels enough: ResNet-50's last stage
        Assert.Equal(GemmKernelSet.Current.Is512, Worth(512, 512, 7, 3, 1, 1, 1));
        Assert.False(Worth(512, 512, 6, 3, 1, 1, 1));   // 36 positions
        Assert.False(Worth(64, 64, 56, 3, 2, 1, 1));
        Assert.False(Worth(64, 64, 56, 3, 1, 2, 1));
        Assert.False(Worth(64, 64, 56, 5, 1, 1, 1));
        Assert.False(Worth(64, 64, 56, 3, 1, 1, 2));
        Assert.False(Worth(3, 64, 56, 3, 1, 1, 1));     // a stem's three channels
    }

    [Fact]
    public void SlicesOutputChannelsOnlyToBalanceTheThreads()
    {
        Assert.Equal(1, ConvWinograd.Slices(25, 8, 1));
        Assert.Equal(1, ConvWinograd.Slices(25, 8, 2));   // 56×56: 25 blocks balance two threads within a part
        Assert.Equal(1, ConvWinograd.Slices(7, 16, 2));   // 7 blocks: one thread's extra block is at most a third of its work
        Assert.Equal(1, ConvWinograd.Slices(2, 32, 2));   // 14×14: a block per thread
        Assert.Equal(2, ConvWinograd.Slices(3, 32, 2));   // 3 blocks → 6 parts, 3 per thread
        Assert.Equal(2, ConvWinograd.Slices(5, 32, 2));   // 5 blocks → 10 parts
        Assert.Equal(3, ConvWinograd.Slices(1, 3, 2));    // no more slices than row panels
    }

    private static ConvAttributes Attrs(IEnumerable<Attr> attrs) =>
        ConvAttributes.Parse(new Node("Conv", ["x", "w"], ["y"], attrs), m => new InvalidOperationException(m));

    private static ConvProblem Problem(int[] xs, int[] ws, IEnumerable<Attr> attrs) =>
        ConvProblem.Create(Attrs(attrs), xs, ws, m => new InvalidOperationException(m));
}
