using Loom.IR;
using Loom.Runtime.Memory;
using Loom.Runtime.Threading;

namespace Loom.Runtime.Parallel;

/// <summary>
/// Runs a batch as sub-batches (<see cref="Hypercluster"/>): each copy of the graph gets its rows of
/// every input (views, no copy), its own symbol bindings and execution frame, and runs on its own worker
/// with one thread per kernel. Without a tail the copies' outputs are joined along the first axis; with one,
/// the values the tail reads are joined into <paramref name="tailFrame"/> and the tail runs on the whole batch with
/// every thread. The graph is batch-separable, so every sample's results are those of the whole-batch run.
/// </summary>
internal sealed class HyperclusterRun(CompiledGraph graph, Hypercluster hyper, RunState run, LoomValue?[] inputs, ExecutionFrame[] frames, ExecutionFrame? tailFrame)
{
    private readonly LoomValue[][] _outputs = new LoomValue[hyper.SubBatches.Length][];

    public LoomValue[] Execute()
    {
        int copies = hyper.SubBatches.Length;
        run.Pool.Run(copies, new CopyJob(this));
        if (!hyper.HasTail)
        {
            var joined = new LoomValue[graph.OutputSlots.Length];
            for (int o = 0; o < joined.Length; o++) joined[o] = Join(Part(o), (type, dims) => Tensor.Zeros(type, dims));
            return joined;
        }
        var frame = tailFrame ?? throw new InvalidOperationException("a split with a tail needs the tail's frame");
        var slots = graph.PrepareSlots(run, null, inputs, frame);
        for (int c = 0; c < hyper.CutSlots.Length; c++) slots[hyper.CutSlots[c]] = Join(Part(c), frame.Hold);
        graph.RunSteps(run, slots, frame, hyper.TailStart, graph.Steps.Length);
        return graph.CollectOutputs(slots);
    }

    private Tensor[] Part(int value) => _outputs.Select(c => (Tensor)c[value]).ToArray();

    /// <summary>The values every copy handed on (the outputs, or the tail's inputs), for the frames to let go of once they are joined.</summary>
    public LoomValue[] CopyOutputs(int copy) => _outputs[copy] ?? [];

    private readonly struct CopyJob(HyperclusterRun owner) : IParallelJob
    {
        public void Execute(int part) => owner.RunCopy(part);
    }

    private void RunCopy(int copy)
    {
        int start = hyper.SubBatches.Take(copy).Sum(), rows = hyper.SubBatches[copy];
        var bindings = new SymbolBindings();
        var sub = new LoomValue?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is not Tensor t) { sub[i] = inputs[i]; continue; }
            var view = Rows(t, start, rows);
            if (graph.Graph.Inputs[i].Type is TensorType { Shape: { } s }) bindings.Unify(s, view.Shape);
            sub[i] = view;
        }
        // The copies' kernels get a pool of their own thread alone: given the session's (busy) pool they split their work for all
        // its threads and ran every part in turn on one, paying for a split that bought nothing (VGG-19's 56×56 Winograd layers
        // transformed each tile block's input twice, for two output-channel slices: 1.22–1.42× their one-thread CPU time).
        var copyRun = new RunState(run.Options, bindings, WorkerPool.LazyCallerOnly, run.Cancellation, run.Trace, worker: copy, threads: 1);
        if (!hyper.HasTail)
        {
            _outputs[copy] = graph.Execute(copyRun, null, sub, frames[copy]);
            return;
        }
        var slots = graph.PrepareSlots(copyRun, null, sub, frames[copy]);
        graph.RunSteps(copyRun, slots, frames[copy], 0, hyper.TailStart);
        _outputs[copy] = hyper.CutSlots.Select(s => slots[s] ?? throw new ExecutionException($"a copy of the split batch did not make '{graph.SlotOf.First(kv => kv.Value == s).Key}', which the whole-batch tail reads")).ToArray();
    }

    /// <summary>Rows [start, start + count) of the first axis: a window of the same buffer.</summary>
    private static Tensor Rows(Tensor t, int start, int count)
    {
        var dims = t.Shape.ToArray();
        int row = dims[0] == 0 ? 0 : t.Length / dims[0];
        dims[0] = count;
        return new Tensor(t.DataType, dims, t.Buffer, t.Offset + start * row);
    }

    private static Tensor Join(Tensor[] parts, Func<DataType, int[], Tensor> allocate)
    {
        var dims = parts[0].Shape.ToArray();
        dims[0] = parts.Sum(p => p.Shape[0]);
        var joined = allocate(parts[0].DataType, dims);
        int at = joined.Offset;
        foreach (var p in parts)
        {
            Array.Copy(p.Buffer, p.Offset, joined.Buffer, at, p.Length);
            at += p.Length;
        }
        return joined;
    }
}
