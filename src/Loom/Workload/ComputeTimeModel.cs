namespace Loom.Workload;

/// <summary>The work of one compute node of a workload, as a time model sees it.</summary>
/// <param name="Source">The model operator it derives from (null for optimizer updates).</param>
/// <param name="Fraction">The share of the operator one rank does (1/tp under tensor parallelism).</param>
public readonly record struct ComputeWork(string Op, long Flops, long Bytes, StepPhase Phase, OpProfile? Source, double Fraction);

/// <summary>Predicts how long a compute node takes on one device.</summary>
public interface IComputeTimeModel
{
    double Seconds(in ComputeWork work);
}

/// <summary>
/// The roofline: a kernel is bound by arithmetic or by memory traffic, whichever takes longer, plus a
/// fixed launch cost. The device description is all it needs, so it serves clusters that do not exist yet.
/// </summary>
public sealed class RooflineTimeModel(DeviceSpec device) : IComputeTimeModel
{
    public double Seconds(in ComputeWork work) =>
        device.KernelOverhead + Math.Max(work.Flops / device.PeakFlops, work.Bytes / device.MemoryBandwidth);
}
