using Loom.Kernels.Common;
using Loom.Runtime.Threading;
using Xunit;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) (<see cref="ConvWinograd4"/>) against the float64 definition of Conv, as <see cref="ConvWinogradTests"/>
/// does for F(2×2): odd and even planes, paddings 0, 1, 2 and asymmetric, channel counts no multiple of 16 (and two GEMM
/// depth blocks), several tile blocks, batch 2, bias, residual and activations, called directly so shapes the path would not
/// choose are covered too. Two threads must give the one-thread bits. Its weights carry thirds and sixths, so it is also held
/// to ONNX Runtime's comparison on layers shaped like ResNet's and the detector's.
/// </summary>
public sealed unsafe class ConvWinograd4Tests(ITestOutputHelper output)
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

    public static TheoryData<string> Sets()
    {
        var d = new TheoryData<string>();
        foreach (var ks in GemmKernelSet.Supported) d.Add(ks.Name);
        return d;
    }

    [Theory, MemberData(nameof(Sets))]
    public void MatchesTheDefinitionAndIsIdenticalOnTwoThreads(string set)
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
            // Σ|x·w| per output: float error grows with it, and these unnormalised weights make it far larger than the result.
            var scale = ConvTests.NaiveConv(Abs(x), c.X, Abs(wt), w, Abs(b), 1, [1, 1], c.P, [1, 1], out _);
            var z = Random(Size(shape), seed + 300);
            var fused = expected.Select((v, i) => Math.Max(v + z[i], 0)).ToArray();
            var plain = ConvTests.NaiveConv(x, c.X, wt, w, null, 1, [1, 1], c.P, [1, 1], out _);
            string what = $"{set} case {seed}";
            var one = Run(ks, c.X, c.M, c.P, x, wt, null, null, FusedActivation.None, null, out var problem);
            Assert.Equal(shape, problem.OutputShape);
            AssertClose(plain, one, scale, what);
            var relu = new FusedActivation(ActivationKind.Relu);
            var fusedOne = Run(ks, c.X, c.M, c.P, x, wt, b, z, relu, null, out _);
            AssertClose(fused, fusedOne, scale, what + " fused");
            Assert.Equal(fusedOne, Run(ks, c.X, c.M, c.P, x, wt, b, z, relu, pool, out _));
            Assert.Equal(one, Run(ks, c.X, c.M, c.P, x, wt, null, null, FusedActivation.None, pool, out _));
            var sigmoid = expected.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();
            AssertClose(sigmoid, Run(ks, c.X, c.M, c.P, x, wt, b, null, new FusedActivation(ActivationKind.Sigmoid), pool, out _), scale, what + " sigmoid");
        }
    }

    [Fact]
    public void AppliesThePreActivationBeforeTheZeroPadding()
    {
        int[] xs = [1, 6, 13, 12], ws = [10, 6, 3, 3], pads = [1, 1, 1, 1];
        var x = Random(Size(xs), 1);
        var w = Random(Size(ws), 2);
        var scale = Random(6, 3);
        var shift = Random(6, 4);
        int plane = 13 * 12;
        var xt = x.Select((v, i) => Math.Max(v * scale[i / plane] + shift[i / plane], 0f)).ToArray();
        var expected = ConvTests.NaiveConv(xt, xs, w, ws, null, 1, [1, 1], pads, [1, 1], out _);
        var magnitude = ConvTests.NaiveConv(xt, xs, Abs(w), ws, null, 1, [1, 1], pads, [1, 1], out _);
        var y = Run(GemmKernelSet.Best, xs, 10, pads, x, w, null, null, FusedActivation.None, null, out _, (scale, shift));
        AssertClose(expected, y, magnitude, "pre-activation");
    }

    /// <summary>
    /// Layers shaped like ResNet-50's first stages and the detector's: He-scaled weights, post-Relu inputs. The worst
    /// |y − exact| / (|exact| + 0.1) must stay well inside ONNX Runtime's rtol 1e-3 (the model tests' comparison). An output's
    /// error depends on its input channels and patch, not on how many output channels there are: 16 keep the test fast.
    /// </summary>
    [Theory]
    [InlineData(64, 16, 56)]
    [InlineData(128, 16, 28)]
    [InlineData(256, 16, 14)]
    [InlineData(96, 16, 80)]
    public void StaysWellInsideTheModelTolerance(int c, int m, int h)
    {
        int[] xs = [1, c, h, h], ws = [m, c, 3, 3], pads = [1, 1, 1, 1];
        var x = Random(Size(xs), c + h).Select(v => Math.Max(v, 0f)).ToArray();
        float he = (float)Math.Sqrt(6.0 / (9 * c));
        var w = Random(Size(ws), m + h).Select(v => v * he).ToArray();
        var exact = ConvTests.NaiveConv(x, xs, w, ws, null, 1, [1, 1], pads, [1, 1], out _);
        var y = Run(GemmKernelSet.Best, xs, m, pads, x, w, null, null, FusedActivation.None, null, out _);
        double worst = 0;
        for (int i = 0; i < y.Length; i++) worst = Math.Max(worst, Math.Abs(y[i] - exact[i]) / (Math.Abs(exact[i]) + 0.1));
        output.WriteLine($"F(4×4) {c}→{m} {h}×{h}: worst |y − exact| / (|exact| + 0.1) = {worst:E2}");
        Assert.True(worst < 2e-4, $"worst relative error {worst:E2}");
    }

    [Fact]
    public void TakesLargePlanesWithEnoughChannelsAndLeavesTheRestToTwoByTwo()
    {
        bool Worth(int c, int m, int h, int s, int group)
        {
            var p = ConvWinogradProblem([1, c, h, h], [m, c / group, 3, 3], group, s);
            return ConvWinograd4.Worth(p, new Conv3D(p.Geometry));
        }
        if (!ConvWinograd4.Enabled) return;
        Assert.True(Worth(64, 64, 56, 1, 1));
        Assert.True(Worth(128, 128, 28, 1, 1));
        Assert.True(Worth(16, 64, 55, 1, 1));      // SqueezeNet's first expand
        Assert.True(Worth(96, 24, 160, 1, 1));     // the detector's 160×160 head: few outputs, but a large plane
        Assert.False(Worth(96, 24, 80, 1, 1));     // ... not at 80×80
        Assert.False(Worth(128, 32, 56, 1, 1));    // DenseNet's growth layers: the transforms outweigh 32 rows of products
        Assert.False(Worth(256, 256, 14, 1, 1));   // 16 tiles of 4×4 pad a panel
        Assert.False(Worth(8, 64, 56, 1, 1));
        Assert.False(Worth(64, 64, 56, 2, 1));
        Assert.False(Worth(64, 64, 56, 1, 2));
    }

    private static ConvProblem ConvWinogradProblem(int[] xs, int[] ws, int group, int stride) =>
        ConvProblem.Create(Attrs(ConvAttrs(group, [stride, stride], [1, 1, 1, 1], [1, 1])), xs, ws, m => new InvalidOperationException(m));

    /// <summary>
    /// |actual − exact| ≤ 2e-6·(1 + the layer's largest Σ|x·w|): each output mixes a whole 6×6 patch through transforms with
    /// coefficients up to 5 and 8, so its float32 error follows the patch's magnitude, not its own value or terms (a border
    /// output summing to 0.05 carried 1.4e-5 from its tile's interior). A wrong term would be off by the order of the result.
    /// </summary>
    internal static void AssertClose(double[] expected, float[] actual, double[] scale, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double bound = 2e-6 * (1 + scale.Max());
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound || double.IsNaN(expected[i]) && float.IsNaN(actual[i]),
                $"{what}: element {i}: expected {expected[i]}, got {actual[i]} (bound {bound})");
    }

    internal static float[] Abs(float[] a) => a.Select(v => Math.Abs(v)).ToArray();

    private static ConvAttributes Attrs(IEnumerable<Loom.IR.Attribute> attrs) =>
        ConvAttributes.Parse(new Loom.IR.Node("Conv", ["x", "w"], ["y"], attrs), m => new InvalidOperationException(m));

    private static float[] Run(GemmKernelSet ks, int[] xs, int m, int[] pads, float[] x, float[] w, float[]? b, float[]? z, FusedActivation act,
        WorkerPool? pool, out ConvProblem problem, (float[] Scale, float[] Shift)? pre = null)
    {
        int[] ws = [m, xs[1], 3, 3];
        problem = ConvProblem.Create(Attrs(ConvAttrs(1, [1, 1], pads, [1, 1])), xs, ws, e => new InvalidOperationException(e));
        var g = new Conv3D(problem.Geometry);
        var y = new float[Size(problem.OutputShape)];
        Array.Fill(y, float.NaN);
        fixed (float* px = x, pw = w, pb = b, pz = z, py = y, ps = pre?.Scale, pt = pre?.Shift)
        {
            var weights = new ConvWinogradWeights<WinogradF4>(ks, m, xs[1], pw);
            ConvWinograd<WinogradF4>.Run(problem, g, weights, new ConvBuffers(px, pw, pb, pz, py, new ChannelTransform(ps, pt, pre is not null)), act, pool);
        }
        return y;
    }
}
