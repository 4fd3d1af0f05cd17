using System.Runtime.ExceptionServices;
using Loom.Runtime;
using Loom.Runtime.Memory;
using Loom.Runtime.Parallel;
using Loom.Runtime.Threading;

namespace Loom.Emit;

/// <summary>
/// What a program written by <c>loom emit</c> calls into: it owns the compiled model (the same passes and
/// kernels as a <see cref="LoomSession"/>) and runs single steps by number, while the emitted code decides
/// the order, the worker and the waits. The API is small on purpose:
/// <list type="bullet">
/// <item><see cref="Load"/> compiles the model and checks it is the one the program was emitted from (its step fingerprint);</item>
/// <item><see cref="Run"/> checks the inputs, prepares the value slots and calls the program's body;</item>
/// <item>inside the body, <see cref="Step"/> runs one step on one intra-op thread (a worker of a parallel stage),
/// <see cref="WideStep"/> one step with every thread, <see cref="Concurrently"/> starts a stage's worker methods
/// side by side (false when the threads are taken, then <see cref="InOrder"/> runs the stage alone), and
/// <see cref="Failed"/> tells a waiting worker to give up because another one threw.</item>
/// </list>
/// Each value is freed when the last step reading it has run (counted down atomically), as in Loom's own
/// parallel executor, so steps may finish in any order. One run at a time: <see cref="Run"/> holds a lock.
/// </summary>
public sealed class EmittedRuntime : IDisposable
{
    private readonly LoomSession _session;
    private readonly ValueLifetimes _lifetimes;
    private readonly int[] _remaining;
    private readonly Lock _runLock = new();

    // State of the run in progress (set by Run, cleared after it).
    private RunState? _run;
    private LoomValue?[] _slots = [];
    private ExecutionFrame? _frame;
    private KernelContext? _wide;
    private KernelContext?[] _workers = [];
    private volatile bool _failed;
    private Exception? _failure;

    private EmittedRuntime(LoomSession session)
    {
        _session = session;
        _lifetimes = new ValueLifetimes(session.Main);
        _remaining = new int[session.Main.SlotCount];
    }

    /// <summary>
    /// Compiles the model at <paramref name="modelPath"/> with <paramref name="options"/> (those the program was
    /// emitted with) and checks that its steps are the ones the program numbers (<paramref name="fingerprint"/>).
    /// </summary>
    public static EmittedRuntime Load(string modelPath, LoomSessionOptions options, string fingerprint)
    {
        // The emitted code is the schedule: the session itself runs nothing in parallel.
        var session = LoomSession.Load(modelPath, new LoomSessionOptions
        {
            IntraOpThreads = options.IntraOpThreads, ExecutionMode = ExecutionMode.Sequential,
            GeneralizeBatch = options.GeneralizeBatch, OptimizationLevel = options.OptimizationLevel,
            MaxTensorBytes = options.MaxTensorBytes, MaxFoldedTensorBytes = options.MaxFoldedTensorBytes,
        });
        var actual = Fingerprint(session.Main);
        if (actual != fingerprint)
        {
            session.Dispose();
            throw new GraphException($"model '{modelPath}' compiles to steps with fingerprint {actual}, but the program was emitted for {fingerprint}: emit it again from this model with these options");
        }
        return new EmittedRuntime(session);
    }

    /// <summary>The session that compiled the model: its inputs, outputs and model.</summary>
    public LoomSession Session => _session;

    /// <summary>True once a step of this run has thrown: workers waiting for other workers stop.</summary>
    public bool Failed => _failed;

    /// <summary>Checks <paramref name="inputs"/>, runs <paramref name="body"/> (the emitted schedule) and returns the outputs.</summary>
    public RunResult Run(IReadOnlyDictionary<string, LoomValue> inputs, Action body, CancellationToken cancellation = default)
    {
        lock (_runLock)
            return _session.Execute(inputs, null, cancellation, (graph, run, values, frame) =>
            {
                _run = run;
                _frame = frame;
                _slots = graph.PrepareSlots(run, null, values, frame);
                Array.Copy(_lifetimes.Readers, _remaining, _remaining.Length);
                _failed = false;
                _failure = null;
                _wide = new KernelContext(run, graph, _slots, frame);
                try
                {
                    body();
                    if (_failure is { } e) ExceptionDispatchInfo.Throw(e);
                    return graph.CollectOutputs(_slots);
                }
                finally
                {
                    _run = null;
                    _frame = null;
                    _wide = null;
                    Array.Clear(_workers);
                    _slots = [];
                }
            });
    }

    /// <summary>Runs step <paramref name="step"/> on worker <paramref name="worker"/> with one intra-op thread.</summary>
    public void Step(int step, int worker) => RunStep(WorkerContext(worker), step);

    /// <summary>Runs step <paramref name="step"/> with every intra-op thread (between parallel stages).</summary>
    public void WideStep(int step) => RunStep(_wide ?? throw NotRunning(), step);

    /// <summary>Runs <paramref name="steps"/> one by one on the calling thread: a parallel stage when the threads are taken.</summary>
    public void InOrder(int[] steps)
    {
        foreach (var s in steps) Step(s, 0);
    }

    /// <summary>
    /// Runs every one of <paramref name="workers"/> at once, each on its own thread, and returns when all
    /// have returned; false (having run none) when the session's threads are busy or too few. An exception
    /// in one marks the run <see cref="Failed"/> and is thrown by <see cref="Run"/> at the end.
    /// </summary>
    public bool Concurrently(Action[] workers)
    {
        var run = _run ?? throw NotRunning();
        if (_workers.Length < workers.Length) _workers = new KernelContext?[workers.Length];
        return run.Pool.TryRunConcurrently(workers.Length, new WorkerJob(this, workers));
    }

    private readonly struct WorkerJob(EmittedRuntime owner, Action[] workers) : IParallelJob
    {
        public void Execute(int part)
        {
            try { workers[part](); }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref owner._failure, e, null);
                owner._failed = true;
            }
        }
    }

    private KernelContext WorkerContext(int worker)
    {
        var run = _run ?? throw NotRunning();
        if (worker >= _workers.Length) Array.Resize(ref _workers, worker + 1);
        // As in Loom's executor: kernels in a parallel stage ask the session's pool, which is busy with the
        // stage's workers, so they run on their worker's thread alone.
        return _workers[worker] ??= new KernelContext(run, _session.Main, _slots, _frame);
    }

    private void RunStep(KernelContext ctx, int index)
    {
        var run = _run ?? throw NotRunning();
        run.Cancellation.ThrowIfCancellationRequested();
        var graph = _session.Main;
        var step = graph.Steps[index];
        if (step.IsConstant) return; // ran once, at the first run, with the constants
        graph.RunStep(ctx, step, run, _slots);
        foreach (var s in _lifetimes.DeadOutputs[index]) Free(s);
        foreach (var s in _lifetimes.Reads[index])
            if (Interlocked.Decrement(ref _remaining[s]) == 0) Free(s);
    }

    private void Free(int slot)
    {
        _frame!.Release(_slots[slot]);
        _slots[slot] = null;
    }

    private static InvalidOperationException NotRunning() => new("steps run only inside EmittedRuntime.Run");

    /// <summary>
    /// Identifies a compiled graph's step list (operator, domain and outputs of each step, in order), so a
    /// program runs only against the compilation it was emitted from.
    /// </summary>
    internal static string Fingerprint(CompiledGraph graph)
    {
        var text = new System.Text.StringBuilder();
        foreach (var s in graph.Steps)
            text.Append(s.Node.Domain).Append(':').Append(s.Node.OpType).Append('(').AppendJoin(',', s.Node.Inputs)
                .Append(")->").AppendJoin(',', s.Node.Outputs).Append(s.IsConstant ? "!" : "").Append('\n');
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
        return Convert.ToHexStringLower(hash, 0, 8);
    }

    public void Dispose() => _session.Dispose();
}
