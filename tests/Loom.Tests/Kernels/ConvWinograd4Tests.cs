using Loom.Kernels.Common;
using Loom.Runtime.Threading;
using Xunit;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) beyond <see cref="ConvWinogradTests"/> (which runs both tile sizes against the definition): its weights
/// carry thirds and sixths, so it is held to ONNX Runtime's comparison on layers shaped like ResNet's and the detector's; and
/// which layers take it (<see cref="ConvWinograd4.Worth"/>).
/// </summary>
public sealed unsafe class ConvWinograd4Tests(ITestOutputHelper output)
{
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
        var y = WinogradCalls.Run(4, GemmKernelSet.Best, xs, m, pads, x, w, null, null, FusedActivation.None, null, out _);
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

    private static ConvAttributes Attrs(IEnumerable<Loom.IR.Attribute> attrs) =>
        ConvAttributes.Parse(new Loom.IR.Node("Conv", ["x", "w"], ["y"], attrs), m => new InvalidOperationException(m));
}
