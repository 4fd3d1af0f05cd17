using Loom.IR;
using Loom.Runtime.Memory;
using Loom.Runtime.Threading;

namespace Loom.Runtime.Parallel;

/// <summary>
/// Runs a batch as sub-batches (<see cref="Hypercluster"/>): each copy of the graph gets its rows of
/// every input (views, no copy), its own symbol bindings and execution frame, and runs on a worker
/// with one thread per kernel. Each copy writes the values it hands on (the outputs, or with a tail the values the tail
/// reads) into its rows of tensors of the whole batch held by <paramref name="wholeFrame"/>; with a tail, that frame then
/// runs the tail on the whole batch with every thread. The graph is batch-separable, so every sample's results are those
/// of the whole-batch run.
/// </summary>
internal sealed class HyperclusterRun(CompiledGraph graph, Hypercluster hyper, RunState run, LoomValue?[] inputs, ExecutionFrame[] frames, ExecutionFrame wholeFrame)
{
    private readonly LoomValue[][] _outputs = new LoomValue[hyper.SubBatches.Length][];
    private readonly Tensor?[] _joined = new Tensor?[hyper.HasTail ? hyper.CutSlots.Length : graph.OutputSlots.Length];
    private readonly Lock _joinLock = new();

    public LoomValue[] Execute()
    {
        int copies = hyper.SubBatches.Length;
        run.Pool.Run(copies, new CopyJob(this));
        var joined = _joined.Select(j => (LoomValue)(j ?? throw new ExecutionException("a copy of the split batch handed on nothing"))).ToArray();
        if (!hyper.HasTail) return joined;
        var slots = graph.PrepareSlots(run, null, inputs, wholeFrame);
        for (int c = 0; c < hyper.CutSlots.Length; c++) slots[hyper.CutSlots[c]] = joined[c];
        graph.RunSteps(run, slots, wholeFrame, hyper.TailStart, graph.Steps.Length);
        return graph.CollectOutputs(slots);
    }

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
        if (!hyper.HasTail) _outputs[copy] = graph.Execute(copyRun, null, sub, frames[copy]);
        else
        {
            var slots = graph.PrepareSlots(copyRun, null, sub, frames[copy]);
            graph.RunSteps(copyRun, slots, frames[copy], 0, hyper.TailStart);
            _outputs[copy] = hyper.CutSlots.Select(s => slots[s] ?? throw new ExecutionException($"a copy of the split batch did not make '{graph.SlotOf.First(kv => kv.Value == s).Key}', which the whole-batch tail reads")).ToArray();
        }
        for (int v = 0; v < _joined.Length; v++) JoinPart(v, (Tensor)_outputs[copy][v], start);
    }

    /// <summary>
    /// Copies one copy's value into its rows of the whole batch's tensor, made by the first copy to get here. Each copy joins its
    /// own part as it finishes, on its own thread: the join of the first to finish overlaps the others' work, and no thread
    /// copies the whole batch alone after the last (3.3–3.7 ms of the detector's 150 at batch 4, in a fresh array each run).
    /// </summary>
    private void JoinPart(int value, Tensor part, int start)
    {
        Tensor whole;
        lock (_joinLock)
        {
            if (_joined[value] is not { } made)
            {
                var dims = part.Shape.ToArray();
                dims[0] = hyper.SubBatches.Sum();
                _joined[value] = made = wholeFrame.Hold(part.DataType, dims);
            }
            whole = made;
        }
        int row = part.Shape[0] == 0 ? 0 : part.Length / part.Shape[0];
        Array.Copy(part.Buffer, part.Offset, whole.Buffer, whole.Offset + start * row, part.Length);
    }

    /// <summary>Rows [start, start + count) of the first axis: a window of the same buffer.</summary>
    private static Tensor Rows(Tensor t, int start, int count)
    {
        var dims = t.Shape.ToArray();
        int row = dims[0] == 0 ? 0 : t.Length / dims[0];
        dims[0] = count;
        return new Tensor(t.DataType, dims, t.Buffer, t.Offset + start * row);
    }
}
