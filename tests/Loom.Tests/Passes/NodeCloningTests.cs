using Loom.Conformance;
using Loom.IR;
using Loom.Passes;
using Loom.Scheduling;
using static Loom.Tests.Passes.PassTestModels;
using P = Loom.Passes.NodeCloning.Placement;

namespace Loom.Tests.Passes;

/// <summary>Node cloning copies a cheap value onto the other workers of its stage that read it, and only then.</summary>
public sealed class NodeCloningTests
{
    // x → s = Sigmoid(x) read by a (worker 0), b and c (worker 1) in stage 0, and by d in stage 1.
    private static Graph Fan() => new("main", [V("x", "float32[4]")], [V("y")],
    [
        N("Sigmoid", ["x"], ["s"]),
        N("Relu", ["s"], ["a"]),
        N("Neg", ["s"], ["b"]),
        N("Abs", ["s"], ["c"]),
        N("Sum", ["a", "b", "c", "s"], ["y"]),
    ]);

    private static readonly P[] FanPlacement = [new(0, 0), new(0, 0), new(0, 1), new(0, 1), new(1, -1)];

    [Fact]
    public void AValueReadOnAnotherWorkerIsComputedThereToo()
    {
        var cloned = NodeCloning.Run(Inferred(Fan()), FanPlacement, _ => true);
        AssertText("""
            graph main(x: float32[4]) -> (y: ?) {
              s = Sigmoid(x)
              a = Relu(s)
              s_w1 = Sigmoid(x)
              b = Neg(s_w1)
              c = Abs(s_w1)
              y = Sum(a, b, c, s)
              return y
            }
            """, cloned);
        Assert.Equal(cloned.Graph.TypeOf("s"), cloned.Graph.TypeOf("s_w1"));
        AssertSameOutputs(Inferred(Fan()), cloned);
    }

    [Fact]
    public void NothingIsClonedWhenTooCostlyWhenInputsAreMadeInTheStageOrWhenReadersShareTheWorker()
    {
        var model = Inferred(Fan());
        Assert.Same(model, NodeCloning.Run(model, FanPlacement, _ => false));
        Assert.Same(model, NodeCloning.Run(model, [new(0, 0), new(0, 0), new(0, 0), new(0, 0), new(1, -1)], _ => true));
        // Relu's input s is made in the same stage: copying Relu would only move the wait; nothing else crosses.
        var chain = new Graph("main", [V("x", "float32[4]")], [V("y")],
            [N("Sigmoid", ["x"], ["s"]), N("Relu", ["s"], ["r"]), N("Neg", ["r"], ["y"])]);
        var m = Inferred(chain);
        Assert.Same(m, NodeCloning.Run(m, [new(0, 0), new(0, 0), new(0, 1)], k => k == 1));
    }

    [Fact]
    public void ASessionClonesWhenTheScheduleGainsAndGivesTheSequentialResults()
    {
        // A small shared value feeding two long independent branches, each a model output: the branch placed
        // away from it waits for a cross-core transfer, and finishes that much later, unless it computes the
        // value itself. (With a join, the join waits for one transfer either way and cloning gains nothing.) (Under the fixed profile, copying a
        // memory-bound node beats the transfer below about 6 KB: 2 KB here.)
        var nodes = new List<Node> { N("Relu", ["x"], ["u"]) };
        foreach (var b in new[] { "p", "q" })
        {
            nodes.Add(N("MatMul", ["u", $"w{b}"], [$"{b}0"])); // weights of their own, or CSE merges the branches
            for (int i = 1; i < 4; i++) nodes.Add(N("MatMul", [$"{b}{i - 1}", $"w{b}"], [$"{b}{i}"]));
        }
        var r = new Random(1);
        Tensor W() => F(Enumerable.Range(0, 64 * 64).Select(_ => (float)(r.NextDouble() - 0.5) / 8).ToArray(), 64, 64);
        var g = new Graph("main", [V("x", "float32[8,64]")], [V("p3"), V("q3")], nodes, new Dictionary<string, Tensor> { ["wp"] = W(), ["wq"] = W() });
        var options = new LoomSessionOptions { IntraOpThreads = 2, InterOpOnly = true, MachineProfile = MachineProfile.Fixed(2) };
        using var cloned = LoomSession.Create(M(g), options);
        Assert.Contains(cloned.Model.Graph.Nodes, n => n.OpType == "Relu" && n.Outputs[0] != "u");
        using var plain = LoomSession.Create(M(g), new LoomSessionOptions { IntraOpThreads = 2, InterOpOnly = true, MachineProfile = MachineProfile.Fixed(2), NodeCloning = false });
        Assert.DoesNotContain(plain.Model.Graph.Nodes, n => n.OpType == "Relu" && n.Outputs[0] != "u");
        using var sequential = LoomSession.Create(M(g), new LoomSessionOptions { IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential });
        var x = ConformanceRunner.DeterministicInput(cloned.Inputs[0], _ => 1);
        using var expected = sequential.Run(("x", x));
        for (int round = 0; round < 2; round++)
        {
            using var actual = cloned.Run(("x", x));
            foreach (var y in new[] { "p3", "q3" })
                Assert.Equal(expected.Tensor(y).ToArray<float>(), actual.Tensor(y).ToArray<float>());
        }
    }

    private static void AssertSameOutputs(Model a, Model b)
    {
        using var sa = LoomSession.Create(a, new LoomSessionOptions { OptimizationLevel = 0, ExecutionMode = ExecutionMode.Sequential });
        using var sb = LoomSession.Create(b, new LoomSessionOptions { OptimizationLevel = 0, ExecutionMode = ExecutionMode.Sequential, VerifyInferredShapes = true });
        var x = Tensor.FromArray(new float[] { -2, -0.5f, 0, 3 }, 4);
        using var ra = sa.Run(("x", x));
        using var rb = sb.Run(("x", x));
        Assert.Equal(ra.Tensor("y").ToArray<float>(), rb.Tensor("y").ToArray<float>());
    }
}
