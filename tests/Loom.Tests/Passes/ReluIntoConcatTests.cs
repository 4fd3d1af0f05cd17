using Loom.Import.Onnx;
using Loom.IR;
using Loom.Passes;
using Loom.Tests.Support;
using static Loom.Tests.Passes.PassTestModels;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Passes;

/// <summary>
/// Relu after a Concat moved onto the Concat's inputs (ShuffleNet's stride-2 units): the rewrite in text form, where it must
/// not apply, and the whole pipeline's output against ONNX Runtime running the graph as written.
/// </summary>
public sealed class ReluIntoConcatTests
{
    /// <summary>x → AveragePool ┐, x → Conv ┘ → Concat → Relu (→ Neg when <paramref name="extraReader"/> reads the Concat too).</summary>
    private static Graph Unit(bool extraReader = false, string convOp = "Conv")
    {
        var r = new Random(3);
        var w = Tensor.FromArray(Enumerable.Range(0, 4 * 3 * 9).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray(), 4, 3, 3, 3);
        List<Node> nodes =
        [
            N("AveragePool", ["x"], ["pool"], Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [2, 2]), Attr.Ints("pads", [1, 1, 1, 1])),
            convOp == "Conv"
                ? N("Conv", ["x", "w"], ["conv"], Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [2, 2]), Attr.Ints("pads", [1, 1, 1, 1]))
                : N("MaxPool", ["x"], ["conv"], Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [2, 2]), Attr.Ints("pads", [1, 1, 1, 1])),
            N("Concat", ["pool", "conv"], ["cat"], Attr.Int("axis", 1)),
            N("Relu", ["cat"], ["y"]),
        ];
        List<ValueInfo> outputs = [V("y")];
        if (extraReader)
        {
            nodes.Add(N("Neg", ["cat"], ["other"]));
            outputs.Add(V("other"));
        }
        return new Graph("main", [V("x", "float32[1,3,8,8]")], outputs, nodes, new Dictionary<string, Tensor> { ["w"] = w });
    }

    [Fact]
    public void TheReluMovesOntoEachInputOfTheConcat()
    {
        var after = ReluIntoConcat.Run(Inferred(Unit()));
        var text = Text(after);
        Assert.Contains("""
              pool = AveragePool(x) {kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]}
              conv = Conv(x, w) {kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]}
              pool__relu = Relu(pool)
              conv__relu = Relu(conv)
              y = Concat(pool__relu, conv__relu) {axis=1}
              return y
            """.Replace("\r", ""), text);
        Assert.Single(after.Graph.Nodes, n => n.OpType == "Concat");
        Assert.Equal(2, after.Graph.Nodes.Count(n => n.OpType == "Relu"));
    }

    [Fact]
    public void NotWhenTheConcatIsReadElsewhereOrNoInputIsAConvolution()
    {
        var shared = Inferred(Unit(extraReader: true));
        Assert.Same(shared, ReluIntoConcat.Run(shared));
        var pools = Inferred(Unit(convOp: "MaxPool"));
        Assert.Same(pools, ReluIntoConcat.Run(pools));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TheConvolutionTakesItsReluAndTheOutputsMatchOnnxRuntime(int threads)
    {
        var model = M(Unit(), opset: 13);
        var x = Tensor.FromArray(Enumerable.Range(0, 3 * 64).Select(i => (float)Math.Sin(i * 0.7)).ToArray(), 1, 3, 8, 8);
        var expected = OrtOracle.Run(OnnxExporter.ToBytes(model), new Dictionary<string, Tensor> { ["x"] = x })["y"];
        using var session = LoomSession.Create(model, new LoomSessionOptions { IntraOpThreads = threads });
        // The convolution's Relu is fused; one Relu is left, on the pool's part.
        Assert.Contains(session.Model.Graph.Nodes, n => n.OpType == "FusedConv" && n.GetString("activation", "") == "Relu");
        Assert.Single(session.Model.Graph.Nodes, n => n.OpType == "Relu");
        using var outputs = session.Run(("x", x));
        OrtOracle.AssertClose(expected.Data, expected.Shape, outputs.Tensor("y"), 1e-5, 1e-6, $"{threads}T");
    }
}
