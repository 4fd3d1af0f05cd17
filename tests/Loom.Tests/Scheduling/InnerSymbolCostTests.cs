using Loom.Inference;
using Loom.IR;
using Loom.Scheduling;
using Attribute = Loom.IR.Attribute;

namespace Loom.Tests.Scheduling;

/// <summary>
/// Symbolic inference cannot prove that two input dims are equal, so a broadcast Add of [1,8,h,w] and [1,8,h2,w2] gets fresh
/// symbols (as a detector's neck does, adding an upsampled map to a skip connection). The schedule at concrete sizes must cost
/// the nodes after it at their real sizes: exactly as the same graph written with one pair of symbols.
/// </summary>
public sealed class InnerSymbolCostTests
{
    /// <summary>a[1,8,h,w] + b[1,8,<paramref name="h2"/>,<paramref name="w2"/>] → 3×3 Conv 8→8 → Relu.</summary>
    private static Model AddThenConv(string h2, string w2)
    {
        TensorType Image(string h, string w) => new(DataType.Float, new Shape([1, 8, Dim.Symbol(h), Dim.Symbol(w)]));
        var nodes = new List<Node>
        {
            new("Add", ["a", "b"], ["s"]),
            new("Conv", ["s", "w"], ["c"], [Attribute.Ints("pads", [1, 1, 1, 1])]),
            new("Relu", ["c"], ["y"]),
        };
        var weights = Enumerable.Range(0, 8 * 8 * 9).Select(i => (float)Math.Sin(i)).ToArray();
        var g = new Graph("g", [new ValueInfo("a", Image("h", "w")), new ValueInfo("b", Image(h2, w2))], [new ValueInfo("y", null)], nodes,
            new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(weights, 8, 8, 3, 3) });
        return ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    private static NodeCost[] CostsAt(Model model)
    {
        using var session = LoomSession.Create(model,
            new LoomSessionOptions { IntraOpThreads = 2, ExecutionMode = ExecutionMode.Parallel, MachineProfile = MachineProfile.Fixed(2) });
        var dims = new Dictionary<string, long> { ["h"] = 64, ["w"] = 48, ["h2"] = 64, ["w2"] = 48 };
        return session.PlanFor(dims)!.Dataflow.Costs;
    }

    [Fact]
    public void NodesAfterAnUnprovenBroadcastAreCostedAtTheirRealSizes()
    {
        var inner = AddThenConv("h2", "w2");
        Assert.Contains(inner.Graph.ValueTypes.Values, t => t is TensorType { Shape: { } s } && s.Dims.Any(d => d.Symbols.Any(x => x.StartsWith("d__"))));
        var same = AddThenConv("h", "w");
        var expected = CostsAt(same);
        var actual = CostsAt(inner);
        Assert.Equal(expected.Length, actual.Length);
        // The Conv: 2·8·9 multiply-adds per output times 8·64·48 outputs, as a hand count gives.
        Assert.Equal(2L * 8 * 9 * 8 * 64 * 48, expected.Single(c => c.Class is KernelClass.Conv or KernelClass.Winograd or KernelClass.Winograd4).Flops);
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.Equal(expected[i].Flops, actual[i].Flops);
            Assert.Equal(expected[i].Bytes, actual[i].Bytes);
            Assert.Equal(expected[i].Seconds, actual[i].Seconds, 12);
        }
    }
}
