using Loom.Import.Onnx;
using Loom.IR;
using Loom.Kernels.Common;
using Loom.Passes;
using Loom.Tests.Kernels;
using Loom.Tests.Support;
using static Loom.Tests.Passes.PassTestModels;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Passes;

/// <summary>
/// A 1×1 convolution (with its Relu) read only by a GlobalAveragePool becomes one FusedConv with spatial_mean (SqueezeNet's
/// classifier): the rewrite in text form, where it must not apply, and the outputs against ONNX Runtime running the
/// convolution, Relu and pool as written — channel counts across the 64-channel panels and their 16-channel tails, position
/// counts across the 6-position tiles, two and three images, every kernel set, 1 and 2 threads (the same bits at both).
/// </summary>
public sealed class FuseConvMeanTests
{
    private static Graph Classifier(int m, int c, int h, int w, int batch = 1, bool relu = true, bool bias = true, string? extraReader = null,
        long kernel = 1, long[]? pads = null)
    {
        var r = new Random(m * 131 + c * 7 + h);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
        var inits = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(Rand(m * c * (int)(kernel * kernel)), m, c, (int)kernel, (int)kernel) };
        if (bias) inits["b"] = Tensor.FromArray(Rand(m), m);
        Attr[] attrs = [Attr.Ints("kernel_shape", [kernel, kernel]), Attr.Ints("pads", pads ?? [0, 0, 0, 0])];
        List<Node> nodes = [N("Conv", bias ? ["x", "w", "b"] : ["x", "w"], ["conv"], attrs)];
        string pooled = "conv";
        if (relu)
        {
            nodes.Add(N("Relu", ["conv"], ["act"]));
            pooled = "act";
        }
        nodes.Add(N("GlobalAveragePool", [pooled], ["y"]));
        List<ValueInfo> outputs = [V("y")];
        if (extraReader is not null)
        {
            nodes.Add(N("Neg", [extraReader], ["other"]));
            outputs.Add(V("other"));
        }
        return new Graph("main", [V("x", $"float32[{batch},{c},{h},{w}]")], outputs, nodes, inits);
    }

    [Fact]
    public void TheConvolutionWritesThePoolsOutput()
    {
        var fused = FuseConvMean.Run(FuseConvActivation.Run(Inferred(Classifier(10, 4, 3, 3, bias: false))));
        AssertText("""
            graph main(x: float32[1,4,3,3]) -> (y: ?) {
              init w = float32[10,4,1,1]
              y = com.loom.FusedConv(x, w) {activation="Relu", kernel_shape=[1, 1], pads=[0, 0, 0, 0], spatial_mean=1}
              return y
            }
            """, fused);
        var types = Inference.ShapeInference.Run(fused).Graph;
        Assert.Equal("float32[1,10,1,1]", types.TypeOf("y")!.ToString());
        // The cost model still counts every position's product: 2·10·4·9 multiply-adds' flops.
        Assert.Equal(2 * 10 * 4 * 9, Inference.FlopCounter.Count(types.Nodes.Single(), types, _ => null));
    }

    [Fact]
    public void NotWhenTheProductIsReadElsewhereOrIsNotAPlainPointwiseLayer()
    {
        var shared = FuseConvActivation.Run(Inferred(Classifier(10, 4, 3, 3, extraReader: "act")));
        Assert.Same(shared, FuseConvMean.Run(shared));
        var wide = FuseConvActivation.Run(Inferred(Classifier(10, 4, 5, 5, kernel: 3)));
        Assert.Same(wide, FuseConvMean.Run(wide));
        var padded = FuseConvActivation.Run(Inferred(Classifier(10, 4, 3, 3, pads: [1, 1, 1, 1])));
        Assert.Same(padded, FuseConvMean.Run(padded));
    }

    public static TheoryData<string, int> SetsAndThreads() => ConvFastPathTests.SetsAndThreads();

    [Theory, MemberData(nameof(SetsAndThreads))]
    public void MatchesOnnxRuntimeRunningTheThreeNodes(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        // (channels out, in, plane, images, Relu, bias): SqueezeNet's classifier; panel tails of 1–3 vectors and partial vectors;
        // 1–13 positions (every 6-position tile count and remainder); no Relu, no bias.
        var cases = new (int M, int C, int H, int W, int N, bool Relu, bool Bias)[]
        {
            (1000, 512, 13, 13, 1, true, true), (70, 33, 5, 7, 2, true, true), (17, 8, 1, 1, 1, true, true), (5, 3, 2, 3, 1, false, true),
            (64, 16, 3, 4, 1, true, false), (48, 20, 1, 5, 3, false, false), (130, 9, 1, 13, 1, true, true), (16, 1, 2, 2, 1, true, true),
        };
        foreach (var t in cases)
        {
            var model = M(Classifier(t.M, t.C, t.H, t.W, t.N, t.Relu, t.Bias), opset: 13);
            var x = Tensor.FromArray(ConvFastPathTests.Random(t.N * t.C * t.H * t.W, t.M + t.H), t.N, t.C, t.H, t.W);
            var expected = OrtOracle.Run(OnnxExporter.ToBytes(model), new Dictionary<string, Tensor> { ["x"] = x })["y"];
            float[]? one = null;
            foreach (int n in new[] { 1, threads })
            {
                using var session = LoomSession.Create(model, new LoomSessionOptions { IntraOpThreads = n });
                Assert.Contains(session.Model.Graph.Nodes, node => node.GetInt(FuseConvMean.Attribute, 0) == 1);
                Assert.DoesNotContain(session.Model.Graph.Nodes, node => node.OpType == "GlobalAveragePool");
                using var outputs = session.Run(("x", x));
                var y = outputs.Tensor("y");
                OrtOracle.AssertClose(expected.Data, expected.Shape, y, 1e-5, 1e-5, $"{set} {n}T {t}");
                if (one is null) one = y.ToArray<float>();
                else Assert.Equal(one, y.ToArray<float>());
            }
        }
    }
}
