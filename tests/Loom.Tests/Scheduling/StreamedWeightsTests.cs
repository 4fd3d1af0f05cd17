using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.Inference;
using Loom.IR;
using Loom.Scheduling;
using Loom.Tests.Models;

namespace Loom.Tests.Scheduling;

/// <summary>
/// Splitting a batch into copies of the graph makes every copy stream every weight: weights too big for the caches
/// (at least 16 MiB) are charged once more per further copy, so the copies stop before a fully connected layer of that
/// size, which runs on the whole batch with every thread (the tail), while the same graph with a weight just under the
/// limit runs whole in each copy. Either way the outputs are bit for bit those of one whole-batch run.
/// </summary>
public sealed class StreamedWeightsTests
{
    /// <summary>x[n,16,8,8] → 1×1 Conv → Relu → flatten → Gemm with a [1024, <paramref name="features"/>] weight.</summary>
    private static Model ConvThenFullyConnected(int features)
    {
        var random = new Random(5);
        float[] Weights(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        return ConvThenFullyConnected(features, Weights);
    }

    private static Model ConvThenFullyConnected(int features, Func<int, float[]> weights)
    {
        var image = new TensorType(DataType.Float, new Shape([Dim.Symbol("n"), 16, 8, 8]));
        var nodes = new List<Node>
        {
            new("Conv", ["x", "w"], ["c"]), new("Relu", ["c"], ["r"]), new("Reshape", ["r", "flat"], ["f"]), new("Gemm", ["f", "fc"], ["y"]),
        };
        var inits = new Dictionary<string, Tensor>
        {
            ["w"] = Tensor.FromArray(weights(16 * 16), 16, 16, 1, 1),
            ["flat"] = Tensor.FromArray(new long[] { 0, -1 }, 2),
            ["fc"] = Tensor.FromArray(weights(1024 * features), 1024, features),
        };
        var g = new Graph("g", [new ValueInfo("x", image)], [new ValueInfo("y", null)], nodes, inits);
        return ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    /// <summary>The fixed test profile with a cost per packed byte (20 GB/s, one thread or two), which streaming is charged at.</summary>
    private static MachineProfile WithBandwidth()
    {
        var p = MachineProfile.Fixed(2);
        var single = p.Single.ToArray();
        single[(int)KernelClass.Gemm] = single[(int)KernelClass.Gemm] with { SecondsPerPackedByte = 1 / 20e9 };
        var wide = p.Wide.ToArray();
        wide[(int)KernelClass.Gemm] = wide[(int)KernelClass.Gemm] with { SecondsPerPackedByte = 1 / 20e9 }; // memory-bound on any number of threads
        return p with { Single = single, Wide = wide };
    }

    [Theory]
    [InlineData(3900, false)] // 15.6 MB: stays in the caches, each copy runs every node
    [InlineData(4200, true)]  // 17.2 MB: streamed from memory, so once: the Gemm runs on the whole batch after the copies
    public void BigWeightsRunOnceOnTheWholeBatch(int features, bool tail)
    {
        var model = ConvThenFullyConnected(features);
        using var session = LoomSession.Create(model,
            new LoomSessionOptions { IntraOpThreads = 2, ExecutionMode = ExecutionMode.Parallel, MachineProfile = WithBandwidth() });
        var hyper = session.PlanFor(new Dictionary<string, long> { ["n"] = 4 })!.Hyper;
        Assert.NotNull(hyper);
        Assert.Equal(tail, hyper!.HasTail);
        if (tail) Assert.Equal("Gemm", session.Main.Steps[hyper.TailStart].Node.OpType);

        using var whole = LoomSession.Create(model, new LoomSessionOptions { IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential });
        var x = Tensor.FromArray(Enumerable.Range(0, 4 * 16 * 64).Select(i => (float)Math.Sin(i)).ToArray(), 4, 16, 8, 8);
        using var expected = whole.Run(("x", x));
        for (int run = 0; run < 3; run++) // pooled buffers are reused from the second run on
        {
            using var actual = session.Run(("x", x));
            Assert.Equal([4, features], actual.Tensor("y").Shape.ToArray());
            Assert.Equal(expected.Tensor("y").ToArray<float>(), actual.Tensor("y").ToArray<float>());
        }
    }

    [Fact]
    public void AlexNetsFullyConnectedLayersRunOnTheWholeBatch()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_bvlc_alexnet.onnx");
        var bytes = OnnxExporter.ToBytes(LightModelsRandomWeightsTests.WithRandomWeights(OnnxImporter.Load(path), seed: 3));
        using var whole = LoomSession.Load(bytes, new LoomSessionOptions { GeneralizeBatch = true, IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential });
        using var split = LoomSession.Load(bytes, new LoomSessionOptions { GeneralizeBatch = true, IntraOpThreads = 2, MachineProfile = WithBandwidth() });
        var dims = new Dictionary<string, long> { ["batch"] = 4 };
        var hyper = split.PlanFor(dims)!.Hyper!;
        Assert.True(hyper.HasTail);
        // The tail starts at the first fully connected layer (fc6's 9216×4096 weights, 151 MB): the convolutions run in the copies.
        Assert.Equal("Gemm", split.Main.Steps[hyper.TailStart].Node.OpType);
        Assert.All(split.Main.Steps.Take(hyper.TailStart), s => Assert.NotEqual("Gemm", s.Node.OpType));
        var input = whole.Inputs.Single();
        var x = ConformanceRunner.DeterministicInput(input, s => dims.GetValueOrDefault(s));
        using var expected = whole.Run((input.Name, x));
        for (int run = 0; run < 2; run++)
        {
            using var actual = split.Run((input.Name, x));
            Assert.Equal(expected.Tensor(expected[0].Name).ToArray<float>(), actual.Tensor(actual[0].Name).ToArray<float>());
        }
    }
}
