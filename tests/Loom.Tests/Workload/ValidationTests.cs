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
    }

    [Fact]
    public void BadArgumentsAreWorkloadErrors()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        Assert.Throws<WorkloadException>(() => Validation.Run(path, threads: 0));
        Assert.Throws<WorkloadException>(() => Validation.Run(path, threads: 1, runs: 0));
    }
}
