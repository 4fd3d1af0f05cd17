using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Passes;
using Loom.Tests.Models;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Passes;

/// <summary>Conv + residual + activation fusion: same outputs as the unfused graph, and only where it is safe.</summary>
public sealed class FuseConvActivationTests
{
    // (ResNet has BatchNormalization between Conv and Relu until BN folding runs: nothing to fuse there.)
    [Theory]
    [InlineData("inception_v1", 57)]
    [InlineData("squeezenet", 26)]
    [InlineData("densenet121", 119)]
    public void LightModelsGiveTheSameOutputFusedAndUnfused(string name, int fusions)
    {
        var path = SharedData.Require("onnx-backend-tests", "light", $"light_{name}.onnx");
        var model = LightModelsRandomWeightsTests.WithRandomWeights(OnnxImporter.Load(path), seed: 7);
        var fused = FuseConvActivation.Run(model);
        Assert.Equal(fusions, fused.Graph.Nodes.Count(n => n.OpType == "FusedConv"));
        // DenseNet's folded BN-ReLU pre-activations round differently (one composed affine map): 1e-4.
        AssertSameOutputs(model, fused, 1e-4);
    }

    [Fact]
    public void ResidualAddAndReluFuseIntoOneNode()
    {
        // y = Relu(Conv(x) + Conv2(x)): the later Conv takes the Add and the Relu; the earlier is its residual.
        var g = Graph(
        [
            new Node("Conv", ["x", "w", "b"], ["c1"], Pads()),
            new Node("Conv", ["x", "w2"], ["c2"], Pads()),
            new Node("Add", ["c2", "c1"], ["s"]),
            new Node("Relu", ["s"], ["y"]),
        ]);
        var fused = FuseConvActivation.Run(g);
        var node = Assert.Single(fused.Graph.Nodes, n => n.OpType == "FusedConv");
        Assert.Equal("com.loom", node.Domain);
        Assert.Equal(4, node.Inputs.Length);
        Assert.Equal("Relu", node.GetString("activation", ""));
        Assert.Equal(2, fused.Graph.Nodes.Length);
        AssertSameOutputs(g, fused, 1e-6);
    }

    [Fact]
    public void SpelledOutHardSwishAndClipFromConstantInputsFuse()
    {
        var g = Graph(
        [
            new Node("Conv", ["x", "w", "b"], ["c"], Pads()),
            new Node("Add", ["c", "three"], ["a"]),
            new Node("Clip", ["a", "zero", "six"], ["cl"]),
            new Node("Mul", ["c", "cl"], ["m"]),
            new Node("Div", ["m", "six"], ["h"]),
            new Node("Conv", ["h", "w2"], ["c2"], Pads()),
            new Node("Clip", ["c2", "zero", "six"], ["y"]),
        ]);
        var fused = FuseConvActivation.Run(g);
        Assert.Equal(["FusedConv", "FusedConv"], fused.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal(["HardSwish", "Clip"], fused.Graph.Nodes.Select(n => n.GetString("activation", "")));
        AssertSameOutputs(g, fused, 1e-5);
    }

    [Fact]
    public void PreActivationChainsFoldIntoTheConvInput()
    {
        // DenseNet style: x → BatchNormalization → Mul(c) → Add(c) → Relu → Conv, and x also feeds the output.
        var g = Graph(
        [
            new Node("BatchNormalization", ["x", "gamma", "beta", "mean", "var"], ["bn"]),
            new Node("Mul", ["bn", "cscale"], ["m"]),
            new Node("Add", ["cshift", "m"], ["a"]),
            new Node("Relu", ["a"], ["r"]),
            new Node("Conv", ["r", "w", "b"], ["c"], Pads()),
            new Node("Relu", ["c"], ["y"]),
        ]);
        var fused = FuseConvActivation.Run(g);
        var node = Assert.Single(fused.Graph.Nodes);
        Assert.Equal(["x", "w", "b", "", node.Inputs[4], node.Inputs[5]], node.Inputs);
        Assert.Equal("Relu", node.GetString("input_activation", ""));
        Assert.Equal("Relu", node.GetString("activation", ""));
        AssertSameOutputs(g, fused, 1e-5);
    }

    [Fact]
    public void ValuesWithOtherReadersOrGraphOutputsAreNotFused()
    {
        var g = Graph(
        [
            new Node("Conv", ["x", "w", "b"], ["c"], Pads()),
            new Node("Relu", ["c"], ["r"]),
            new Node("Add", ["r", "c"], ["y"]),      // c is also read here
            new Node("Conv", ["x", "w2"], ["c2"], Pads()),
            new Node("Sigmoid", ["c2"], ["y2"]),
        ], extraOutputs: ["c2", "y2"]);            // c2 is a graph output
        Assert.DoesNotContain(FuseConvActivation.Run(g).Graph.Nodes, n => n.OpType == "FusedConv");
    }

    private static List<Attr> Pads() => [Attr.Ints("pads", [1, 1, 1, 1])];

    /// <summary>x [1,4,9,11] → … → y; w, w2 [4,4,3,3], b [4] and scalar constants 0, 3, 6 as initializers.</summary>
    private static Model Graph(Node[] nodes, string[]? extraOutputs = null)
    {
        var r = new Random(3);
        Tensor T(params int[] shape) => Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray(), shape);
        var inits = new Dictionary<string, Tensor>
        {
            ["w"] = T(4, 4, 3, 3), ["w2"] = T(4, 4, 3, 3), ["b"] = T(4),
            ["zero"] = Tensor.Scalar(0f), ["three"] = Tensor.Scalar(3f), ["six"] = Tensor.Scalar(6f),
            ["gamma"] = T(4), ["beta"] = T(4), ["mean"] = T(4),
            ["var"] = Tensor.FromArray(new[] { 0.5f, 1.5f, 2f, 0.25f }, 4),
            ["cscale"] = T(4, 1, 1), ["cshift"] = T(1, 4, 1, 1),
        };
        var outputs = new[] { "y" }.Concat(extraOutputs ?? []).Distinct().Select(o => new ValueInfo(o, null));
        var graph = new Graph("g", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(1, 4, 9, 11)))], outputs, nodes, inits);
        return new Model(graph, new Dictionary<string, int> { [""] = 17 });
    }

    private static void AssertSameOutputs(Model unfused, Model fused, double rtol)
    {
        // Level 0: sessions would otherwise fuse the unfused model too.
        using var a = LoomSession.Create(unfused, new LoomSessionOptions { OptimizationLevel = 0 });
        using var b = LoomSession.Create(fused, new LoomSessionOptions { OptimizationLevel = 0, VerifyInferredShapes = true });
        var input = a.Inputs.Single();
        var x = ConformanceRunner.DeterministicInput(input, _ => 1);
        using var ra = a.Run((input.Name, x));
        using var rb = b.Run((input.Name, x));
        foreach (var o in a.Outputs)
        {
            var ya = ra.Tensor(o.Name).ToArray<float>();
            var yb = rb.Tensor(o.Name).ToArray<float>();
            Assert.Equal(ya.Length, yb.Length);
            for (int i = 0; i < ya.Length; i++)
                Assert.True(Math.Abs(ya[i] - yb[i]) <= rtol * (1e-3 + Math.Abs(ya[i])), $"{o.Name}[{i}]: unfused {ya[i]}, fused {yb[i]}");
        }
    }
}
