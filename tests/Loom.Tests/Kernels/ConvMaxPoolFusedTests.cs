using Loom.IR;
using Loom.Kernels.Common;
using static Loom.Tests.Passes.PassTestModels;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// com.loom FusedConvMaxPool (a stem's Conv → [Relu] → MaxPool 3×3 stride 2 in one node) against the same graph with the
/// convolution's output also a graph output (so it is not fused: Conv → Relu as FusedConv, then the MaxPool kernel), bitwise,
/// and against the definition computed here in float64: every kernel set, one to three threads, odd sizes, convolution pads
/// 0 to 3, 3×3 and 7×7 kernels, channel counts that leave a partial row tile, pooled heights from 1 to past several bands per
/// thread, with and without Relu and bias.
/// </summary>
public sealed class ConvMaxPoolFusedTests
{
    // x shape [N, C, H, W], output channels, kernel, stride, pad, relu, bias
    private static readonly (int[] X, int M, int K, int S, int P, bool Relu, bool Bias)[] Cases =
    [
        ([1, 3, 57, 63], 16, 3, 2, 0, true, true),
        ([1, 3, 224, 224], 64, 3, 2, 0, true, true), // SqueezeNet 1.0's stem: 111² → 55²
        ([2, 5, 41, 37], 20, 3, 2, 1, true, true),
        ([1, 4, 30, 35], 24, 7, 2, 3, false, true),
        ([1, 3, 7, 9], 8, 3, 1, 0, true, false),
        ([1, 2, 9, 40], 12, 3, 2, 1, true, true),
        ([1, 3, 47, 19], 72, 3, 2, 0, false, false),
        ([1, 6, 20, 20], 10, 3, 1, 1, true, true),
        ([1, 3, 7, 30], 16, 3, 2, 0, true, true), // one pooled row
    ];

    public static TheoryData<string, int> SetsAndOneToThreeThreads() => PoolMaxWideTests.SetsAndOneToThreeThreads();

    [Theory, MemberData(nameof(SetsAndOneToThreeThreads))]
    public void MatchesTheUnfusedPairBitwiseAndTheDefinition(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        int seed = 0;
        foreach (var c in Cases)
        {
            seed++;
            var (fused, fusedNodes) = Run(c, seed, threads, fuse: true);
            var (plain, plainNodes) = Run(c, seed, threads, fuse: false);
            string what = $"{set} {threads}T x {string.Join('x', c.X)} m {c.M} k {c.K} s {c.S} p {c.P} relu {c.Relu} bias {c.Bias}";
            Assert.Contains("FusedConvMaxPool", fusedNodes);
            Assert.DoesNotContain("FusedConvMaxPool", plainNodes);
            Assert.Equal(plain.Shape.ToArray(), fused.Shape.ToArray());
            var a = fused.ToArray<float>();
            var b = plain.ToArray<float>();
            for (int i = 0; i < a.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(a[i]) == BitConverter.SingleToInt32Bits(b[i]), $"{what}: element {i}: fused {a[i]}, unfused {b[i]}");
            var (expected, shape) = Definition(c, seed);
            Assert.Equal(shape, fused.Shape.ToArray());
            ConvFastPathTests.AssertNear(expected, a, what);
        }
    }

    private static (Tensor Y, string[] Nodes) Run((int[] X, int M, int K, int S, int P, bool Relu, bool Bias) c, int seed, int threads, bool fuse)
    {
        var (x, w, b) = Inputs(c, seed);
        var inits = new Dictionary<string, Tensor> { ["w"] = w };
        if (c.Bias) inits["b"] = b;
        var conv = N("Conv", c.Bias ? ["x", "w", "b"] : ["x", "w"], ["c"], Attr.Ints("kernel_shape", [c.K, c.K]), Attr.Ints("strides", [c.S, c.S]),
            Attr.Ints("pads", [c.P, c.P, c.P, c.P]));
        List<Node> nodes = [conv];
        string pooled = "c";
        if (c.Relu)
        {
            nodes.Add(N("Relu", ["c"], ["r"]));
            pooled = "r";
        }
        nodes.Add(N("MaxPool", [pooled], ["y"], Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [2, 2])));
        // Unfused: the pool's input is also a graph output, so the pass must leave the pair apart.
        List<ValueInfo> outputs = fuse ? [V("y")] : [V("y"), V(pooled)];
        var graph = new Graph("main", [V("x", $"float32[{string.Join(',', c.X)}]")], outputs, nodes, inits);
        using var session = LoomSession.Create(M(graph, opset: 13), new LoomSessionOptions { IntraOpThreads = threads, VerifyInferredShapes = true });
        using var r = session.Run(("x", x));
        var y = r.Tensor("y");
        return (Tensor.FromArray(y.ToArray<float>(), y.Shape), session.Model.Graph.Nodes.Select(n => n.OpType).ToArray());
    }

    private static (Tensor X, Tensor W, Tensor B) Inputs((int[] X, int M, int K, int S, int P, bool Relu, bool Bias) c, int seed)
    {
        int[] ws = [c.M, c.X[1], c.K, c.K];
        return (Tensor.FromArray(ConvFastPathTests.Random(ConvFastPathTests.Size(c.X), seed), c.X),
            Tensor.FromArray(ConvFastPathTests.Random(ConvFastPathTests.Size(ws), seed + 100), ws),
            Tensor.FromArray(ConvFastPathTests.Random(c.M, seed + 200), c.M));
    }

    /// <summary>MaxPool 3×3 stride 2 of [Relu](Conv(x, w) + b), in float64.</summary>
    private static (double[] Y, int[] Shape) Definition((int[] X, int M, int K, int S, int P, bool Relu, bool Bias) c, int seed)
    {
        var (xt, wt, bt) = Inputs(c, seed);
        float[] x = xt.ToArray<float>(), w = wt.ToArray<float>(), b = bt.ToArray<float>();
        int n = c.X[0], ch = c.X[1], ih = c.X[2], iw = c.X[3], k = c.K;
        int oh = (ih + 2 * c.P - k) / c.S + 1, ow = (iw + 2 * c.P - k) / c.S + 1;
        int ph = (oh - 3) / 2 + 1, pw = (ow - 3) / 2 + 1;
        var y = new double[n * c.M * ph * pw];
        var conv = new double[oh * ow];
        for (int img = 0; img < n; img++)
            for (int m = 0; m < c.M; m++)
            {
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double s = c.Bias ? b[m] : 0;
                        for (int ci = 0; ci < ch; ci++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int yy = oy * c.S + ky - c.P, xx = ox * c.S + kx - c.P;
                                    if ((uint)yy < (uint)ih && (uint)xx < (uint)iw)
                                        s += (double)x[((img * ch + ci) * ih + yy) * iw + xx] * w[((m * ch + ci) * k + ky) * k + kx];
                                }
                        conv[oy * ow + ox] = c.Relu ? Math.Max(0, s) : s;
                    }
                for (int py = 0; py < ph; py++)
                    for (int px = 0; px < pw; px++)
                    {
                        double best = double.NegativeInfinity;
                        for (int dy = 0; dy < 3; dy++)
                            for (int dx = 0; dx < 3; dx++) best = Math.Max(best, conv[(2 * py + dy) * ow + 2 * px + dx]);
                        y[((img * c.M + m) * ph + py) * pw + px] = best;
                    }
            }
        return (y, [n, c.M, ph, pw]);
    }
}
