using Loom.Inference;
using Loom.IR;
using Loom.Scheduling;

namespace Loom.Tests.Scheduling;

/// <summary>
/// Splitting a batch into copies of the graph makes every copy stream every weight: weights too big for the caches
/// (at least 16 MiB) are charged once more per further copy, so a fully connected layer of that size keeps the batch
/// whole (each node on all threads), while the same graph with a weight just under the limit is split.
/// </summary>
public sealed class StreamedWeightsTests
{
    /// <summary>x[n,16,8,8] → 1×1 Conv → Relu → flatten → Gemm with a [1024, <paramref name="features"/>] weight.</summary>
    private static Model ConvThenFullyConnected(int features)
    {
        var image = new TensorType(DataType.Float, new Shape([Dim.Symbol("n"), 16, 8, 8]));
        var nodes = new List<Node>
        {
            new("Conv", ["x", "w"], ["c"]), new("Relu", ["c"], ["r"]), new("Reshape", ["r", "flat"], ["f"]), new("Gemm", ["f", "fc"], ["y"]),
        };
        var inits = new Dictionary<string, Tensor>
        {
            ["w"] = Tensor.FromArray(new float[16 * 16], 16, 16, 1, 1),
            ["flat"] = Tensor.FromArray(new long[] { 0, -1 }, 2),
            ["fc"] = Tensor.FromArray(new float[1024 * features], 1024, features),
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
    [InlineData(3900, true)]  // 15.6 MB: stays in the caches, the batch is split
    [InlineData(4200, false)] // 17.2 MB: streamed from memory by every copy, the batch stays whole
    public void BigWeightsKeepTheBatchWhole(int features, bool split)
    {
        using var session = LoomSession.Create(ConvThenFullyConnected(features),
            new LoomSessionOptions { IntraOpThreads = 2, ExecutionMode = ExecutionMode.Parallel, MachineProfile = WithBandwidth() });
        var plan = session.PlanFor(new Dictionary<string, long> { ["n"] = 4 })!;
        Assert.Equal(split, plan.Hyper is not null);
    }
}
