using Loom.Scheduling;

namespace Loom.Workload;

/// <summary>
/// Device speed from Loom's cost model calibrated on this machine (<see cref="MachineProfile"/> probes):
/// a forward node costs what the scheduler predicts for it, on one thread or with all intra-op threads;
/// derived nodes (backward, optimizer) cost their class's rate on their FLOPs or bytes.
/// </summary>
public sealed class CalibratedTimeModel(CostModel cost, ModelProfile profile, bool allThreads) : IComputeTimeModel
{
    public double Seconds(in ComputeWork work)
    {
        // A session reads its inputs where the caller put them and hands its outputs back as they are.
        if (work.Op is "MemLoad" or "MemStore") return 0;
        if (work.Source is { } src && work.Phase == StepPhase.Forward && ReferenceEquals(src, profile.Ops[src.Index]))
        {
            var c = cost.Node(src.Node, profile.Graph, profile.Dims);
            return (allThreads ? c.WideSeconds : c.Seconds) * work.Fraction;
        }
        var cls = work.Source is { } s ? CostModel.Classify(s.Node, profile.Graph) : KernelClass.Memory;
        var timing = (allThreads ? cost.Profile.Wide : cost.Profile.Single)[(int)cls];
        return timing.Seconds(cls == KernelClass.Memory ? work.Bytes : work.Flops);
    }
}
