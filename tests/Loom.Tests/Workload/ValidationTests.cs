using Loom.Workload;

namespace Loom.Tests.WorkloadTests;

/// <summary>
/// <c>validate</c>'s pairing of simulated and measured nodes. The error itself depends on the machine and
/// its load, so it is reported by the command and docs/workload.md, not asserted here.
/// </summary>
public sealed class ValidationTests
{
    [Fact]
    public void EveryStepNodeIsSimulatedAndMeasured()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        var r = Validation.Run(path, threads: 1, runs: 2);
        Assert.Equal(ValidationClock.Cpu, r.Clock);
        Assert.True(r.SimulatedSeconds > 0 && r.MeasuredSeconds > 0);
        Assert.Equal(2, r.RunSeconds.Count);
        Assert.NotEmpty(r.Nodes);
        Assert.DoesNotContain(r.Nodes, n => n.Op == "ConstantOfShape"); // computed once, on the first run
        Assert.All(r.Nodes, n => Assert.True(n.Measured > 0, $"{n.Name} ({n.Op}) has no measured time"));
        Assert.All(r.Nodes, n => Assert.True(n.Simulated > 0, $"{n.Name} ({n.Op}) has no simulated time"));
        // SqueezeNet's fire modules: 1×1 squeeze and expand convolutions, 3×3 expands, concatenations, pools.
        var paths = r.Nodes.Select(n => n.Work.Path).ToHashSet();
        Assert.Superset(new HashSet<KernelPath> { KernelPath.ConvPointwise, KernelPath.ConvImplicitGemm, KernelPath.Copy, KernelPath.Pool }, paths);
        Assert.InRange(r.LoadBefore, 0, 10_000);
    }

    [Fact]
    public void TraceCarriesEachNodesThreadCpuTime()
    {
        if (!OperatingSystem.IsLinux()) return; // the thread clock is Linux's clock_gettime
        var n = new ProbeNet(16, 28);
        var model = n.Build(n.Relu(n.Conv(n.Input, 32, 3)));
        using var session = LoomSession.Create(model, new LoomSessionOptions { IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential });
        var x = new Dictionary<string, LoomValue> { ["x"] = Tensor.FromArray(new float[16 * 28 * 28], 1, 16, 28, 28) };
        var trace = new RunTrace();
        session.Run(x, trace).Dispose();
        Assert.NotEmpty(trace.Events);
        // On one thread a node's CPU time is positive and never more than its elapsed time (a few µs of clock skew aside).
        Assert.All(trace.Events, e => Assert.InRange(e.CpuMicroseconds, 1e-3, e.DurationMicroseconds + 5));
    }

    [Fact]
    public void ClockIsCpuOnOneThreadAndWallOnMore()
    {
        if (!OperatingSystem.IsLinux()) return;
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        var e = Assert.Throws<WorkloadException>(() => Validation.Run(path, threads: 2, clock: ValidationClock.Cpu));
        Assert.Contains("wall clock", e.Message);
    }

    [Fact]
    public void BadArgumentsAreWorkloadErrors()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        Assert.Throws<WorkloadException>(() => Validation.Run(path, threads: 0));
        Assert.Throws<WorkloadException>(() => Validation.Run(path, threads: 1, runs: 0));
    }
}
