using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Loom.Runtime.Memory;
using Loom.Runtime.Threading;

namespace Loom.Runtime.Parallel;

/// <summary>
/// Runs a <see cref="ParallelPlan"/> over one execution frame. A parallel stage is one
/// <see cref="WorkerPool.TryRunConcurrently"/> job whose parts are the workers; a step waits for its
/// producers on other workers by spinning (then yielding) on per-step completion stamps, so the hot path
/// takes no OS lock and allocates no task. Every step is claimed (a compare-and-swap) before it runs:
/// a worker kept waiting for a step whose owner has not reached it — on a busy machine, the owner's
/// thread may not even be running — runs that step itself once its inputs are ready, and the owner then
/// finds it claimed and waits for it instead. Kernels in a parallel stage get one thread (the pool is
/// busy); those of a wide stage get the whole pool. Kept with the frame and reused by its later runs.
/// </summary>
internal sealed class ParallelRun
{
    private readonly CompiledGraph _graph;
    private readonly ValueLifetimes _lifetimes;
    private const int StealDepth = 8; // how far back through unfinished producers a waiting worker goes
    private readonly int[] _done;      // per step: the run (epoch) in which it last finished
    private readonly int[] _claimed;   // per step: the run (epoch) in which some worker took it
    private readonly int[] _remaining; // per slot: readers that have not finished yet in this run
    private int _epoch;
    private volatile bool _failed;
    private Exception? _failure;

    private ParallelPlan _plan = null!;
    private RunState _run = null!;
    private LoomValue?[] _slots = [];
    private ExecutionFrame _frame = null!;
    private KernelContext[] _contexts = [];
    private Func<int, bool>? _isLastReader;

    public ParallelRun(CompiledGraph graph, ValueLifetimes lifetimes)
    {
        _graph = graph;
        _lifetimes = lifetimes;
        _done = new int[graph.Steps.Length];
        _claimed = new int[graph.Steps.Length];
        _remaining = new int[graph.SlotCount];
    }

    public LoomValue[] Execute(ParallelPlan plan, RunState run, ReadOnlySpan<LoomValue?> inputs, ExecutionFrame frame)
    {
        _plan = plan;
        _run = run;
        _frame = frame;
        _slots = _graph.PrepareSlots(run, null, inputs, frame);
        _epoch++;
        Array.Copy(_lifetimes.Readers, _remaining, _remaining.Length);
        _failed = false;
        _failure = null;
        if (_contexts.Length != plan.Workers) _contexts = new KernelContext[plan.Workers];
        // A node may write its output over an input that it alone still reads (its other readers have finished).
        _isLastReader ??= slot => Volatile.Read(ref _remaining[slot]) == 1;
        // A parallel stage's nodes run one thread each: their kernels get a pool of the calling thread alone. Given the session's
        // pool (busy with the stage itself) they planned a split for every thread and ran all its parts on one, paying the split's
        // extra work (Winograd halves transforming their input twice) for nothing — as the split batch's copies did (vgg, 2026-11-27).
        for (int w = 0; w < plan.Workers; w++) _contexts[w] = new KernelContext(run, _graph, _slots, frame, WorkerPool.CallerOnly) { IsLastReader = _isLastReader };
        var wide = new KernelContext(run, _graph, _slots, frame, plan.InterOpOnly ? WorkerPool.CallerOnly : null) { IsLastReader = _isLastReader };
        int wideThreads = plan.InterOpOnly ? 1 : plan.Workers;
        try
        {
            for (int s = 0; s < plan.Stages.Length; s++)
            {
                var stage = plan.Stages[s];
                if (!stage.IsParallel)
                    foreach (var step in stage.Steps[0]) RunStep(wide, step, 0, wideThreads);
                else if (!run.Pool.TryRunConcurrently(plan.Workers, new StageJob(this, s)))
                    foreach (var step in stage.InOrder) RunStep(_contexts[0], step, 0, 1); // the pool is taken (a concurrent run): alone, in graph order
                if (_failure is { } e) ExceptionDispatchInfo.Throw(e);
            }
            return _graph.CollectOutputs(_slots);
        }
        finally
        {
            Array.Clear(_contexts); // the contexts hold this run's state
            _plan = null!;
            _run = null!;
        }
    }

    private readonly struct StageJob(ParallelRun owner, int stage) : IParallelJob
    {
        public void Execute(int part) => owner.RunWorker(stage, part);
    }

    private void RunWorker(int stageIndex, int worker)
    {
        var stage = _plan.Stages[stageIndex];
        var steps = stage.Steps[worker];
        var waits = stage.Waits[worker];
        var ctx = _contexts[worker];
        try
        {
            for (int i = 0; i < steps.Length; i++)
            {
                foreach (var p in waits[i])
                    if (!WaitFor(p, ctx, worker)) return;
                if (_failed) return;
                if (Claim(steps[i])) RunStep(ctx, steps[i], worker, 1);
                else if (!WaitFor(steps[i], ctx, worker)) return; // another worker took it
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
            _failed = true;
        }
    }

    /// <summary>
    /// Waits until step <paramref name="step"/> has finished in this run, running it (or its unfinished
    /// producers) meanwhile if nobody has taken it; false if the run failed.
    /// </summary>
    private bool WaitFor(int step, KernelContext ctx, int worker)
    {
        if (Volatile.Read(ref _done[step]) == _epoch) return true;
        var spin = new SpinWait();
        while (Volatile.Read(ref _done[step]) != _epoch)
        {
            if (_failed) return false;
            if (TrySteal(step, ctx, worker, 0)) continue;
            spin.SpinOnce(sleep1Threshold: -1); // spins a little, then yields: the producer may share our core
        }
        return true;
    }

    /// <summary>Runs <paramref name="step"/> here if nobody has taken it and its producers are done (running those first, if need be); true if it ran anything.</summary>
    private bool TrySteal(int step, KernelContext ctx, int worker, int depth)
    {
        if (Volatile.Read(ref _claimed[step]) == _epoch) return false;
        bool ranAny = false;
        foreach (var p in _plan.StagePredecessors[step]!)
        {
            if (Volatile.Read(ref _done[p]) == _epoch) continue;
            if (depth < StealDepth && TrySteal(p, ctx, worker, depth + 1)) ranAny = true;
            if (Volatile.Read(ref _done[p]) != _epoch) return ranAny;
        }
        if (!Claim(step)) return ranAny;
        RunStep(ctx, step, worker, 1);
        return true;
    }

    private bool Claim(int step)
    {
        int seen = Volatile.Read(ref _claimed[step]);
        return seen != _epoch && Interlocked.CompareExchange(ref _claimed[step], _epoch, seen) == seen;
    }

    private void RunStep(KernelContext ctx, int index, int worker, int threads)
    {
        _run.Cancellation.ThrowIfCancellationRequested();
        var step = _graph.Steps[index];
        var trace = _run.Trace;
        long t0 = trace is null ? 0 : Stopwatch.GetTimestamp();
        _graph.RunStep(ctx, step, _run, _slots);
        trace?.Add(step.Node, worker, threads, t0, Stopwatch.GetTimestamp());
        Volatile.Write(ref _done[index], _epoch); // publishes the outputs written above
        foreach (var s in _lifetimes.DeadOutputs[index]) Free(s);
        foreach (var s in _lifetimes.Reads[index])
            if (Interlocked.Decrement(ref _remaining[s]) == 0) Free(s);
    }

    private void Free(int slot)
    {
        _frame.Release(_slots[slot]);
        _slots[slot] = null;
    }
}
