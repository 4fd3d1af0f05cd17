using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.Inference;
using Loom.IR;
using Loom.Scheduling;
using Loom.Tests.Models;
using Attribute = Loom.IR.Attribute;

namespace Loom.Tests.Scheduling;

/// <summary>
/// Which graphs may split their batch (and which may not), lifting a batch of 1 to a symbol, and split
/// runs that give bit for bit what one whole-batch run gives.
/// </summary>
public sealed class HyperclusteringTests
{
    private static readonly TensorType Image = new(DataType.Float, new Shape([Dim.Symbol("n"), 4, 6, 6]));

    /// <summary>x[n,4,6,6] → Conv(1×1) → Relu → then <paramref name="tail"/> on "r" producing "y"; inferred.</summary>
    private static Graph WithTail(params Node[] tail)
    {
        var w = Tensor.FromArray(new float[16], 4, 4, 1, 1);
        var nodes = new List<Node> { new("Conv", ["x", "w"], ["c"]), new("Relu", ["c"], ["r"]) };
        nodes.AddRange(tail);
        var g = new Graph("g", [new ValueInfo("x", Image)], [new ValueInfo("y", null)], nodes,
            new Dictionary<string, Tensor> { ["w"] = w, ["axes0"] = Tensor.FromArray(new long[] { 0 }, 1), ["axes1"] = Tensor.FromArray(new long[] { 1 }, 1), // Slice axes
                ["flat"] = Tensor.FromArray(new long[] { 0, -1 }, 2), ["s0"] = Tensor.FromArray(new long[] { 1 }, 1), ["e0"] = Tensor.FromArray(new long[] { 1000 }, 1),
                ["fc"] = Tensor.FromArray(new float[144 * 3], 144, 3) });
        return ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 })).Graph;
    }

    public static TheoryData<string, Node[]> Separable() => new()
    {
        { "softmax over channels", [new("Softmax", ["r"], ["y"], [Attribute.Int("axis", 1)])] },
        { "reduce over channels", [new("ReduceMean", ["r"], ["y"], [Attribute.Ints("axes", [1])])] },
        { "flatten then gemm", [new("Reshape", ["r", "flat"], ["f"]), new("Gemm", ["f", "fc"], ["y"])] },
        { "concat along channels", [new("Concat", ["r", "c"], ["y"], [Attribute.Int("axis", 1)])] },
        { "transpose keeping the batch first", [new("Transpose", ["r"], ["y"], [Attribute.Ints("perm", [0, 2, 3, 1])])] },
        { "slice of channels", [new("Slice", ["r", "s0", "e0", "axes1"], ["y"])] },
    };

    public static TheoryData<string, Node[]> NotSeparable() => new()
    {
        { "softmax across the batch", [new("Softmax", ["r"], ["y"], [Attribute.Int("axis", 0)])] },
        { "reduce over the batch", [new("ReduceMean", ["r"], ["y"], [Attribute.Ints("axes", [0])])] },
        { "concat along the batch", [new("Concat", ["r", "c"], ["y"], [Attribute.Int("axis", 0)])] },
        { "shape of a batch value", [new("Shape", ["r"], ["y"])] },
        { "transpose moving the batch", [new("Transpose", ["r"], ["y"], [Attribute.Ints("perm", [1, 0, 2, 3])])] },
        { "slice of the batch", [new("Slice", ["r", "s0", "e0", "axes0"], ["y"])] },
        { "squeeze without axes", [new("Squeeze", ["r"], ["y"])] },
        { "batch norm in training", [new("BatchNormalization", ["r", "w", "w", "w", "w"], ["y", "m", "v"], [Attribute.Int("training_mode", 1)])] },
        { "an unknown operator", [new("NonZero", ["r"], ["y"])] },
    };

    [Theory, MemberData(nameof(Separable))]
    public void SeparableGraphsAreRecognized(string why, Node[] tail)
    {
        var g = WithTail(tail);
        Assert.Equal("n", BatchSeparability.BatchSymbol(g));
        Assert.True(BatchSeparability.Check(g, "n") is null, $"{why}: {BatchSeparability.Check(g, "n")}");
    }

    [Theory, MemberData(nameof(NotSeparable))]
    public void GraphsThatMixSamplesAreRefused(string why, Node[] tail)
    {
        var g = WithTail(tail);
        Assert.True(BatchSeparability.Check(g, "n") is not null, why);
    }

    [Fact]
    public void ALiteralBatchOfOneBecomesASymbolWhenTheModelIsSeparable()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_inception_v1.onnx");
        var model = ShapeInference.Run(OnnxImporter.Load(path));
        var open = BatchGeneralization.Apply(model, out var reason);
        Assert.True(open is not null, reason);
        Assert.Equal("float32[batch,3,224,224]", open!.Graph.RequiredInputs.Single().Type!.ToString());
        Assert.Equal("float32[batch,1000]", open.Graph.TypeOf(open.Graph.Outputs[0].Name)!.ToString());

        var shapeOfInput = new Graph("g", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(1, 4)))], [new ValueInfo("y", null)],
            [new Node("Shape", ["x"], ["s"]), new Node("Cast", ["s"], ["y"], [Attribute.Int("to", (long)DataType.Float)])]);
        Assert.Null(BatchGeneralization.Apply(ShapeInference.Run(new Model(shapeOfInput, new Dictionary<string, int> { [""] = 17 })), out reason));
        Assert.NotNull(reason);
    }

    /// <summary>
    /// Sub-batches are as small as allowed (one image, or two rows where samples meet a matrix product), up to two per worker.
    /// Each run joins the copies' outputs into pooled tensors: a result kept while later runs go on must keep its values.
    /// </summary>
    [Theory]
    [InlineData("squeezenet", 4, new[] { 1, 1, 1, 1 })]
    [InlineData("squeezenet", 5, new[] { 2, 1, 1, 1 })]
    [InlineData("inception_v1", 4, new[] { 2, 2 })]
    public void ASplitBatchGivesWhatTheWholeBatchGives(string name, int batch, int[] subBatches)
    {
        var path = SharedData.Require("onnx-backend-tests", "light", $"light_{name}.onnx");
        var bytes = OnnxExporter.ToBytes(LightModelsRandomWeightsTests.WithRandomWeights(OnnxImporter.Load(path), seed: 11));
        using var whole = LoomSession.Load(bytes, new LoomSessionOptions { GeneralizeBatch = true, IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential });
        var options = ParallelExecutorTests.Parallel(interOpOnly: true);
        using var split = LoomSession.Load(bytes, new LoomSessionOptions { GeneralizeBatch = true, IntraOpThreads = 2, MachineProfile = options.MachineProfile, InterOpOnly = true });
        var input = whole.Inputs.Single();
        var dims = new Dictionary<string, long> { ["batch"] = batch };
        Assert.Equal(subBatches, split.PlanFor(dims)!.Hyper!.SubBatches);
        var x = ConformanceRunner.DeterministicInput(input, s => dims.GetValueOrDefault(s));
        using var expected = whole.Run((input.Name, x));
        var want = expected.Tensor(expected[0].Name).ToArray<float>();
        using var kept = split.Run((input.Name, x));
        for (int run = 0; run < 3; run++)
        {
            using var actual = split.Run((input.Name, x));
            Assert.Equal(expected.Tensor(expected[0].Name).Shape.ToArray(), actual.Tensor(actual[0].Name).Shape.ToArray());
            Assert.Equal(want, actual.Tensor(actual[0].Name).ToArray<float>());
        }
        Assert.Equal(want, kept.Tensor(kept[0].Name).ToArray<float>());
    }
}
