using Loom.Import.Onnx;
using Loom.IR;
using Loom.Passes;
using Loom.Tests.Support;
using static Loom.Tests.Passes.PassTestModels;

namespace Loom.Tests.Passes;

/// <summary>The pass lists per level, and a model of operators every branch has, optimized in a session and saved for ONNX Runtime.</summary>
public sealed class PassPipelineTests
{
    [Fact]
    public void EachLevelHasItsPasses()
    {
        Assert.Empty(PassPipeline.ForLevel(0).Passes);
        Assert.Equal(["initializer-inputs", "constant-folding", "common-subexpression-elimination", "dead-code-elimination"],
            PassPipeline.ForLevel(1).Passes.Select(p => p.Name));
        Assert.Equal(["initializer-inputs", "common-subexpression-elimination", "constant-folding", "no-op-elimination", "affine-folding",
            "common-subexpression-elimination", "dead-code-elimination"], PassPipeline.ForLevel(2).Passes.Select(p => p.Name));
        Assert.Equal(["relu-into-concat", "fuse-conv-activation", "fuse-conv-mean", "fold-channel-shuffle", "fuse-elementwise-chains"],
            PassPipeline.ForLevel(2, new PassOptions { LoomOperators = true }).Passes.TakeLast(5).Select(p => p.Name));
    }

    /// <summary>
    /// Constants to fold (Constant nodes and arithmetic on them), repeated work (two Mul), no-ops (Identity,
    /// inference Dropout, same-type Cast), dead code, and an If whose branches capture folded values.
    /// </summary>
    public static Model Mixed()
    {
        var then = new Graph("then", [], [V("t")], [N("Mul", ["w", "two"], ["t"])]);
        var otherwise = new Graph("else", [], [V("e")], [N("Neg", ["w"], ["e"])]);
        var g = new Graph("mixed", [V("x", "float32[batch,4]")], [V("y")],
        [
            Const("c1", F(1, 2, 3, 4)),
            Const("c2", F(0.5f, 0.25f, 0.125f, 1)),
            Const("two", F(2)),
            Const("zero", F(0)),
            Const("yes", Tensor.Scalar(true)),
            N("Add", ["c1", "c2"], ["s"]),
            Const("ints", Tensor.FromArray(new long[] { 4, 3, 2, 1 }, 4)),
            N("Cast", ["ints"], ["intsf"], IR.Attribute.Int("to", (long)DataType.Float)),
            N("Mul", ["x", "s"], ["m1"]),
            N("Mul", ["x", "s"], ["m2"]),
            N("Identity", ["m1"], ["i"]),
            N("Dropout", ["i"], ["d"]),
            N("Cast", ["d"], ["k"], IR.Attribute.Int("to", (long)DataType.Float)),
            N("Add", ["k", "m2"], ["a"]),
            N("Sigmoid", ["a"], ["unused"]),
            N("Greater", ["a", "zero"], ["positive"]),
            N("Where", ["positive", "a", "intsf"], ["w"]),
            N("If", ["yes"], ["y"], IR.Attribute.Graph("then_branch", then), IR.Attribute.Graph("else_branch", otherwise)),
        ]);
        return M(g, opset: 17);
    }

    [Fact]
    public void SessionsOptimizeAtLevel2ByDefaultAndComputeTheSame()
    {
        var x = Tensor.FromArray(new float[] { -3, -1, 0.5f, 2, 4, -0.25f, 1, -8 }, 2, 4);
        using var plain = LoomSession.Create(Mixed(), new LoomSessionOptions { OptimizationLevel = 0, VerifyInferredShapes = true });
        using var optimized = LoomSession.Create(Mixed(), new LoomSessionOptions { VerifyInferredShapes = true });
        Assert.Equal(20, PassPipeline.CountNodes(plain.Model.Graph)); // 18 nodes and the If branches' 2
        Assert.Equal(["Mul", "Add", "Greater", "Where", "If", "Mul", "Neg"], optimized.Model.Graph.AllNodes().Select(n => n.OpType));
        using var expected = plain.Run(("x", x));
        using var actual = optimized.Run(("x", x));
        Assert.Equal(expected.Tensor("y").ToArray<float>(), actual.Tensor("y").ToArray<float>());
    }

    [Fact]
    public void TheSavedOptimizedModelGivesOnnxRuntimeTheSameOutputs()
    {
        var model = Mixed();
        var optimized = PassPipeline.ForLevel(2).Run(model);
        var x = OrtOracle.RandomInput(5, 3, 4);
        var expected = OrtOracle.Run(OnnxExporter.ToBytes(model), new Dictionary<string, Tensor> { ["x"] = x });
        var actual = OrtOracle.Run(OnnxExporter.ToBytes(optimized), new Dictionary<string, Tensor> { ["x"] = x });
        Assert.Equal(expected["y"].Data, actual["y"].Data);
        Assert.Equal(expected["y"].Shape, actual["y"].Shape);
    }

    [Fact]
    public void TheReportCountsNodesBeforeAndAfterEachPass()
    {
        var report = new List<PassReport>();
        PassPipeline.ForLevel(1).Run(Mixed(), report: report);
        Assert.Equal(4, report.Count);
        Assert.Equal(20, report[0].NodesBefore);
        Assert.True(report[1].NodesAfter < report[1].NodesBefore, "constant folding removed nothing");
        Assert.All(report.Zip(report.Skip(1)), p => Assert.Equal(p.First.NodesAfter, p.Second.NodesBefore));
    }
}
