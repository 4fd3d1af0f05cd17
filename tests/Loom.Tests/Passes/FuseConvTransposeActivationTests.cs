using Loom.IR;
using Loom.Passes;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Passes;

/// <summary>
/// ConvTranspose → activation fused into <c>com.loom.FusedConvTranspose</c> (the PP-OCR detector's head): the pass fuses only
/// with a bias, and a session with the fused node gives the unfused graph's outputs bit for bit — on the in-cache epilogue
/// (stride = kernel) and on the one-pass epilogue (overlapping windows), with groups, batches and two threads.
/// </summary>
public sealed class FuseConvTransposeActivationTests
{
    private static Model Model(int group, int kernel, int stride, int pad, string activation, bool bias = true, int width = 13)
    {
        const int c = 4, m = 6;
        var rng = new Random(kernel * 31 + stride * 7 + group);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var inits = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(Random(c * (m / group) * kernel * kernel), c, m / group, kernel, kernel) };
        if (bias) inits["b"] = Tensor.FromArray(Random(m), m);
        var nodes = new Node[]
        {
            new("ConvTranspose", bias ? ["x", "w", "b"] : ["x", "w"], ["t"],
                [Attr.Int("group", group), Attr.Ints("strides", [stride, stride]), Attr.Ints("pads", [pad, pad, pad, pad])]),
            new(activation, ["t"], ["y"]),
        };
        var x = new TensorType(DataType.Float, new Shape(new[] { Dim.Symbol("n"), Dim.Of(c), Dim.Of(7), Dim.Of(width) }));
        var g = new Graph("g", [new ValueInfo("x", x)], [new ValueInfo("y", null)], nodes, inits);
        return Inference.ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    [Theory]
    [InlineData(1, 2, 2, 0, "Relu", 1)]     // tiling: epilogue on each chunk's rows (the detector's ConvTranspose.0)
    [InlineData(2, 2, 2, 0, "HardSigmoid", 2)] // tiling, two groups, two threads
    [InlineData(1, 3, 2, 1, "Relu", 2)]     // overlapping windows: one pass after col2im
    [InlineData(2, 3, 1, 1, "LeakyRelu", 1)]
    public void FusedGivesTheUnfusedBitsAtEveryBatch(int group, int kernel, int stride, int pad, string activation, int threads)
    {
        var model = Model(group, kernel, stride, pad, activation);
        var fused = FuseConvActivation.Run(model);
        var node = Assert.Single(fused.Graph.Nodes);
        Assert.Equal(("FusedConvTranspose", "com.loom", activation), (node.OpType, node.Domain, node.GetString("activation", "")));
        Assert.Equal("y", node.Outputs[0]);

        using var plain = LoomSession.Create(model, new LoomSessionOptions { OptimizationLevel = 0, IntraOpThreads = threads });
        using var fast = LoomSession.Create(model, new LoomSessionOptions { IntraOpThreads = threads, VerifyInferredShapes = true });
        Assert.Contains(fast.Model.Graph.Nodes, n => n.OpType == "FusedConvTranspose");
        var rng = new Random(5);
        foreach (var batch in new[] { 1, 3 })
        {
            var x = Tensor.FromArray(Enumerable.Range(0, batch * 4 * 7 * 13).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray(), batch, 4, 7, 13);
            using var expected = plain.Run(("x", x));
            using var actual = fast.Run(("x", x));
            var e = expected.Tensor("y").ToArray<float>();
            var a = actual.Tensor("y").ToArray<float>();
            Assert.Equal(e.Length, a.Length);
            for (int i = 0; i < e.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(e[i]) == BitConverter.SingleToInt32Bits(a[i]), $"batch {batch} element {i}: {a[i]} fused, {e[i]} unfused");
        }
    }

    [Theory]
    [InlineData("Relu", false)]
    [InlineData("Sigmoid", true)] // the epilogue's Sigmoid is 1 ulp from the Sigmoid kernel's
    [InlineData("Tanh", true)]
    public void WithoutABiasOrWithACurvedActivationNothingFuses(string activation, bool bias)
    {
        var model = Model(1, 2, 2, 0, activation, bias);
        Assert.Same(model, FuseConvActivation.Run(model));
    }

    [Fact]
    public void TheReluOfTheHandComputedTransposeIsWhatTheFusedKernelGives()
    {
        // One channel in, one out, kernel 2, stride 2: every input element paints its own 2×2 block with w·x + b, then Relu.
        var nodes = new Node[]
        {
            new("ConvTranspose", ["x", "w", "b"], ["t"], [Attr.Ints("strides", [2, 2])]),
            new("Relu", ["t"], ["y"]),
        };
        var inits = new Dictionary<string, Tensor>
        {
            ["w"] = Tensor.FromArray(new float[] { 1, -2, 0.5f, 3 }, 1, 1, 2, 2), ["b"] = Tensor.FromArray(new float[] { 0.25f }, 1),
        };
        var g = new Graph("g", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(1, 1, 1, 2)))], [new ValueInfo("y", null)], nodes, inits);
        using var session = LoomSession.Create(Inference.ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 })));
        Assert.Contains(session.Model.Graph.Nodes, n => n.OpType == "FusedConvTranspose");
        using var r = session.Run(("x", Tensor.FromArray(new float[] { 2, -1 }, 1, 1, 1, 2)));
        // Before Relu, x = 2 paints 2.25, −3.75 / 1.25, 6.25 and x = −1 paints −0.75, 2.25 / −0.25, −2.75 (rows of the 2×4 output).
        Assert.Equal(new float[] { 2.25f, 0, 0, 2.25f, 1.25f, 6.25f, 0, 0 }, r.Tensor("y").ToArray<float>());
    }
}
