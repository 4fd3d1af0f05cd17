using Loom.IR;
using Loom.Tests.Support;

namespace Loom.Tests.Runtime;

/// <summary>
/// A residual block (Relu, 1×1 conv, 3×3 conv, Add of the block input, Relu) runs as one FusedConv that may write its
/// output over the residual when nothing reads the residual afterwards. Checked against the unoptimized graph run by
/// the reference Conv, Add and Relu kernels, in every execution mode, run after run — and with a later reader of the
/// residual, which must still see it intact.
/// </summary>
public sealed class InPlaceResidualTests
{
    private static Model Block(bool residualReadLater)
    {
        var rng = new Random(7);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var x = new TensorType(DataType.Float, Shape.Of(1, 16, 12, 12));
        var nodes = new List<Node>
        {
            new("Relu", ["x"], ["r"]),
            new("Conv", ["r", "w1", "b1"], ["c1"]),
            new("Conv", ["c1", "w2", "b2"], ["c2"], [IR.Attribute.Ints("pads", [1, 1, 1, 1])]),
            new("Add", ["c2", "r"], ["s"]),
            new("Relu", ["s"], ["y"]),
        };
        var outputs = new List<ValueInfo> { new("y", null) };
        if (residualReadLater)
        {
            nodes.Add(new("Sub", ["y", "r"], ["d"]));
            outputs.Add(new("d", null));
        }
        var inits = new Dictionary<string, Tensor>
        {
            ["w1"] = Tensor.FromArray(R(16 * 16), 16, 16, 1, 1), ["b1"] = Tensor.FromArray(R(16), 16),
            ["w2"] = Tensor.FromArray(R(16 * 16 * 9), 16, 16, 3, 3), ["b2"] = Tensor.FromArray(R(16), 16),
        };
        var g = new Graph("block", [new ValueInfo("x", x)], outputs, nodes, inits);
        return Inference.ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    [Theory]
    [InlineData(false, ExecutionMode.Sequential, 1)]
    [InlineData(false, ExecutionMode.Sequential, 2)]
    [InlineData(false, ExecutionMode.Parallel, 2)]
    [InlineData(true, ExecutionMode.Sequential, 1)]
    [InlineData(true, ExecutionMode.Parallel, 2)]
    public void MatchesTheUnfusedGraphRunAfterRun(bool residualReadLater, ExecutionMode mode, int threads)
    {
        var model = Block(residualReadLater);
        using var reference = LoomSession.Create(model, new LoomSessionOptions { OptimizationLevel = 0, ExecutionMode = ExecutionMode.Sequential });
        using var session = LoomSession.Create(model, new LoomSessionOptions { ExecutionMode = mode, IntraOpThreads = threads });
        Assert.Contains(session.Model.Graph.Nodes, n => n.OpType == "FusedConv" && n.Inputs.Length > 3 && n.Inputs[3] == "r");
        var rng = new Random(11);
        for (int run = 0; run < 4; run++)
        {
            var input = Tensor.FromArray(Enumerable.Range(0, 16 * 144).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), 1, 16, 12, 12);
            using var expected = reference.Run(("x", input));
            using var actual = session.Run(("x", input));
            foreach (var name in residualReadLater ? new[] { "y", "d" } : ["y"])
                OpTester.AssertClose(expected.Tensor(name).ToArray<float>(), actual.Tensor(name), 1e-4f);
        }
    }
}
