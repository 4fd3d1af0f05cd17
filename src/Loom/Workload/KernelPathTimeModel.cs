namespace Loom.Workload;

/// <summary>
/// Device speed of this machine per kernel path (<see cref="KernelPathProfile"/>): a forward node costs its
/// path's fixed cost, its multiply-adds as the path computes them and its bytes at the path's fitted rates,
/// plus the executor's cost per node; the step's input load carries the executor's cost per run. Derived nodes
/// (backward, optimizer) have no kernel of their own here: their FLOPs go at the matrix-product rate and their
/// bytes at the element-wise one.
/// </summary>
public sealed class KernelPathTimeModel(KernelPathProfile machine, ModelProfile profile) : IComputeTimeModel
{
    public double Seconds(in ComputeWork work)
    {
        if (work.Op == "MemStore") return 0; // outputs are handed back as they are
        if (work.Op == "MemLoad") return machine.Executor.OverheadSeconds; // inputs are read where the caller put them; the run's fixed cost
        double node = machine.Executor.SecondsPerWork;
        if (work.Source is { } src && work.Phase == StepPhase.Forward && ReferenceEquals(src, profile.Ops[src.Index]))
            return node + machine.Seconds(KernelPaths.Of(src.Node, profile.Graph, profile.Dims)) * work.Fraction;
        return node + machine.Seconds(new KernelWork(KernelPath.MatMul, work.Flops / 2.0, 0)) + machine.Seconds(new KernelWork(KernelPath.Elementwise, 0, work.Bytes));
    }
}
