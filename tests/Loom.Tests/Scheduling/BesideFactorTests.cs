using Loom.Inference;
using Loom.IR;
using Loom.Scheduling;

namespace Loom.Tests.Scheduling;

/// <summary>
/// A kernel on one thread runs slower while the other cores run kernels too (shared caches and memory bandwidth): the
/// profile's per-class beside factor weighs the nodes of parallel stages, so two branches run side by side only while that
/// still beats splitting each over both threads.
/// </summary>
public sealed class BesideFactorTests
{
    /// <summary>Two 64→64 1×1 convolutions of x[1,64,56,56] (one matrix-product class), added.</summary>
    private static Model TwoBranches()
    {
        var x = new TensorType(DataType.Float, Shape.Of(1, 64, 56, 56));
        var nodes = new List<Node> { new("Conv", ["x", "wa"], ["a"]), new("Conv", ["x", "wb"], ["b"]), new("Add", ["a", "b"], ["y"]) };
        var inits = new Dictionary<string, Tensor>
        {
            ["wa"] = Tensor.FromArray(new float[64 * 64], 64, 64, 1, 1),
            ["wb"] = Tensor.FromArray(new float[64 * 64], 64, 64, 1, 1),
        };
        var g = new Graph("g", [new ValueInfo("x", x)], [new ValueInfo("y", null)], nodes, inits);
        return ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    private static MachineProfile WithGemmBeside(double factor)
    {
        var p = MachineProfile.Fixed(2);
        var beside = Enumerable.Repeat(1.0, p.Single.Length).ToArray();
        beside[(int)KernelClass.Gemm] = factor;
        return p with { Beside = beside };
    }

    [Theory]
    // The fixed profile splits a product 1.8× over two threads: each branch takes 0.65 ms alone, 0.36 ms split, so side by
    // side (0.65 ms) beats one after the other split (0.73 ms) unless a branch slows by more than 12% beside the other.
    [InlineData(1.0, true)]
    [InlineData(1.05, true)]
    [InlineData(1.2, false)]
    public void BranchesRunSideBySideOnlyWhileThatBeatsSplittingEach(double factor, bool sideBySide)
    {
        using var session = LoomSession.Create(TwoBranches(),
            new LoomSessionOptions { IntraOpThreads = 2, ExecutionMode = ExecutionMode.Parallel, OptimizationLevel = 0, MachineProfile = WithGemmBeside(factor) });
        var plan = session.PlanFor(new Dictionary<string, long>())!;
        Assert.Equal(sideBySide, plan.Schedule.HasParallelStage);
        var conv = Array.IndexOf(plan.Dataflow.OpTypes, "Conv");
        Assert.Equal(plan.Dataflow.Costs[conv].Seconds * factor, plan.Dataflow.Graph.Weight(conv), 12);
    }

    [Theory]
    // The same two branches side by side with the profile as probed: on quiet cores (scaling near 2), or marked as probed on
    // busy ones (1.2×, under 0.8 of two threads), whose two-thread timings describe the load: then every node gets all threads.
    [InlineData(1.95, true)]
    [InlineData(1.2, false)]
    public void AProfileProbedOnBusyCoresRunsNoBranchesSideBySide(double probedScaling, bool sideBySide)
    {
        var profile = WithGemmBeside(1.0) with { ParallelScaling = probedScaling };
        Assert.Equal(!sideBySide, profile.ProbedBusy);
        using var session = LoomSession.Create(TwoBranches(),
            new LoomSessionOptions { IntraOpThreads = 2, ExecutionMode = ExecutionMode.Parallel, OptimizationLevel = 0, MachineProfile = profile });
        Assert.Equal(sideBySide, session.PlanFor(new Dictionary<string, long>())!.Schedule.HasParallelStage);
        using var interOp = LoomSession.Create(TwoBranches(),
            new LoomSessionOptions { IntraOpThreads = 2, ExecutionMode = ExecutionMode.Parallel, OptimizationLevel = 0, MachineProfile = profile, InterOpOnly = true });
        Assert.True(interOp.PlanFor(new Dictionary<string, long>())!.Schedule.HasParallelStage); // inter-op only always runs them so
    }
}
