using System.Collections.Immutable;
using Loom.Import.Onnx;
using Loom.Inference;
using Loom.IR;
using Loom.Kernels;
using Loom.Passes;
using Loom.Runtime;
using Loom.Runtime.Memory;
using Loom.Runtime.Parallel;
using Loom.Runtime.Threading;
using System.Collections.Concurrent;

namespace Loom;

/// <summary>Name and type of a model input or output, with its symbolic dims.</summary>
public sealed record ValueMetadata(string Name, IrType? Type)
{
    /// <summary>The element type, if this is a tensor of known dtype.</summary>
    public DataType ElementType => (Type as TensorType)?.ElementType ?? DataType.Undefined;

    /// <summary>The (possibly symbolic) shape, if this is a tensor of known rank.</summary>
    public Shape? Shape => (Type as TensorType)?.Shape;

    /// <summary>Names of the symbolic dims (<c>batch</c>, <c>seq</c>) the shape uses.</summary>
    public IEnumerable<string> Symbols => Shape?.Dims.SelectMany(d => d.Symbols).Distinct() ?? [];
}

/// <summary>
/// A loaded, compiled model, ready to run. Like ONNX Runtime's <c>InferenceSession</c>:
/// <code>
/// using var session = LoomSession.Load("model.onnx");
/// using var outputs = session.Run(new Dictionary&lt;string, LoomValue&gt; { ["x"] = Tensor.FromArray(data, 1, 3, 224, 224) });
/// </code>
/// <see cref="Run(IReadOnlyDictionary{string, LoomValue}, CancellationToken)"/> may be called from many threads at once.
/// </summary>
public sealed class LoomSession : IDisposable
{
    private CompiledGraph _main; // set in the constructor (replaced once if node cloning pays)
    private readonly Lazy<WorkerPool> _pool; // threads start on the first parallel kernel, not at load
    private readonly ConcurrentBag<ExecutionFrame> _frames = new(); // one per concurrent run, kept between runs

    private LoomSession(Model model, LoomSessionOptions options, KernelRegistry? registry)
    {
        Options = options;
        if (options.IntraOpThreads < 1) throw new InputException($"IntraOpThreads must be at least 1, not {options.IntraOpThreads}");
        if (options.SharedPool is { } shared && shared.Threads != options.IntraOpThreads)
            throw new InputException($"the shared pool has {shared.Threads} threads but IntraOpThreads is {options.IntraOpThreads}");
        OpsetSupport.Check(model);
        Model = ShapeInference.Run(model);
#if DEBUG
        Verifier.Verify(Model); // inference only adds types; the structure was verified before
#endif
        if (options.OptimizationLevel > 0 || options.TreeLowering != Lowering.Trees.TreeLowering.Fused) // the passes keep the IR valid (in Debug builds they verify it after each change)
        {
            var passes = new PassOptions
            {
                MaxFoldedTensorBytes = Math.Min(options.MaxFoldedTensorBytes, options.MaxTensorBytes),
                TreeLowering = options.TreeLowering, TreeStrategy = options.TreeStrategy,
                LoomOperators = true,
            };
            Model = PassPipeline.ForLevel(options.OptimizationLevel, passes).Run(Model, typesUpToDate: true);
        }
        if (options.GeneralizeBatch) Model = Scheduling.BatchGeneralization.Apply(Model, out _) ?? Model;
        registry ??= KernelRegistry.Default;
        _main = new CompiledGraph(Model.Graph, Model.Opsets, registry, options, parent: null);
        _pool = options.SharedPool is { } pool ? new Lazy<WorkerPool>(pool) : new Lazy<WorkerPool>(() => new WorkerPool(options.IntraOpThreads));
        if (options.ExecutionMode == ExecutionMode.Parallel && options.IntraOpThreads > 1)
        {
            _scheduler = new SessionScheduler(_main, options);
            if (_scheduler.InputsAreConcrete) // schedule at load time when no run can change the sizes
            {
                var plan = _scheduler.PlanFor(_ => null);
                if (options.NodeCloning) TryCloning(plan, registry);
            }
        }
        Inputs = Model.Graph.RequiredInputs.Select(i => new ValueMetadata(i.Name, i.Type)).ToImmutableArray();
        Outputs = Model.Graph.Outputs.Select(o => new ValueMetadata(o.Name, o.Type ?? Model.Graph.TypeOf(o.Name))).ToImmutableArray();
    }

    /// <summary>
    /// Node cloning needs the schedule (which edges cross cores), so it runs here rather than with the
    /// passes: clone what the schedule says, compile and schedule the cloned model, and keep it only if
    /// its predicted makespan is shorter (<see cref="Scheduling.NodeClonePlanner"/>).
    /// </summary>
    private void TryCloning(ParallelPlan plan, KernelRegistry registry)
    {
        if (Scheduling.NodeClonePlanner.Propose(Model, _main, plan, _scheduler!.Cost, _ => null) is not { } cloned) return;
        var main = new CompiledGraph(cloned.Graph, cloned.Opsets, registry, Options, parent: null);
        var scheduler = new SessionScheduler(main, Options);
        if (scheduler.PlanFor(_ => null).Schedule.PredictedMakespan >= plan.Schedule.PredictedMakespan) return;
        Model = cloned;
        _main = main;
        _scheduler = scheduler;
    }

    private SessionScheduler? _scheduler;

    /// <summary>Null when runs may split the batch into sub-batches; otherwise why not.</summary>
    internal string? WhyBatchNotSplittable => _scheduler is null ? "sequential execution" : _scheduler.WhyNotSeparable;

    /// <summary>Builds the schedule for these sizes afresh (not kept), to time the scheduler.</summary>
    internal ParallelPlan? BuildPlan(IReadOnlyDictionary<string, long> dims) =>
        _scheduler?.Build(s => dims.TryGetValue(s, out var v) ? v : null);

    /// <summary>
    /// The schedule a run with these symbol sizes uses (null in sequential mode). Building one takes
    /// milliseconds; a session keeps each it builds.
    /// </summary>
    internal ParallelPlan? PlanFor(IReadOnlyDictionary<string, long> dims) =>
        _scheduler?.PlanFor(s => dims.TryGetValue(s, out var v) ? v : null);

    /// <summary>Loads an ONNX model file; external data is read from the file's folder.</summary>
    public static LoomSession Load(string path, LoomSessionOptions? options = null)
    {
        options ??= new LoomSessionOptions();
        return new LoomSession(OnnxImporter.Load(path, options), options, null);
    }

    /// <summary>Loads an ONNX model from bytes.</summary>
    public static LoomSession Load(byte[] modelBytes, LoomSessionOptions? options = null)
    {
        options ??= new LoomSessionOptions();
        return new LoomSession(OnnxImporter.Load(modelBytes, options), options, null);
    }

    /// <summary>Compiles a model already in Loom's IR (built in code or transformed by passes).</summary>
    public static LoomSession Create(Model model, LoomSessionOptions? options = null, KernelRegistry? registry = null)
    {
        Verifier.Verify(model); // a model built in code has not been through the importer's checks
        return new(model, options ?? new LoomSessionOptions(), registry);
    }

    /// <summary>The model with every value's inferred type.</summary>
    public Model Model { get; private set; } // replaced only in the constructor, by node cloning

    public LoomSessionOptions Options { get; }

    /// <summary>Inputs a caller must feed (inputs with an initializer default are left out).</summary>
    public ImmutableArray<ValueMetadata> Inputs { get; }

    public ImmutableArray<ValueMetadata> Outputs { get; }

    /// <summary>The model's metadata_props.</summary>
    public ImmutableDictionary<string, string> Metadata => Model.Metadata;

    public RunResult Run(params (string Name, LoomValue Value)[] inputs) =>
        Run(inputs.ToDictionary(i => i.Name, i => i.Value));

    /// <summary>Runs the model. Inputs are checked against the model's names, dtypes, ranks and dims first.</summary>
    public RunResult Run(IReadOnlyDictionary<string, LoomValue> inputs, CancellationToken cancellation = default) => Run(inputs, null, cancellation);

    /// <summary>Runs the model and records in <paramref name="trace"/> which worker ran each node, and when.</summary>
    public RunResult Run(IReadOnlyDictionary<string, LoomValue> inputs, RunTrace? trace, CancellationToken cancellation = default) =>
        Execute(inputs, trace, cancellation, executor: null);

    /// <summary>
    /// Runs the model as <see cref="Run(IReadOnlyDictionary{string, LoomValue}, RunTrace?, CancellationToken)"/> does, but with
    /// <paramref name="executor"/> (when given) running the main graph's steps in place of the session's own schedule:
    /// how emitted programs (<see cref="Emit.EmittedRuntime"/>) reuse input checks, frames and output handling.
    /// </summary>
    internal RunResult Execute(IReadOnlyDictionary<string, LoomValue> inputs, RunTrace? trace, CancellationToken cancellation,
        Func<CompiledGraph, RunState, LoomValue?[], ExecutionFrame, LoomValue[]>? executor)
    {
        var graph = Model.Graph;
        var bindings = new SymbolBindings();
        foreach (var name in inputs.Keys)
            if (!graph.Inputs.Any(i => i.Name == name))
                throw new InputException($"the model has no input named '{name}' (inputs: {string.Join(", ", graph.RequiredInputs.Select(i => i.Name))})");

        var values = new LoomValue?[graph.Inputs.Length];
        for (int i = 0; i < values.Length; i++)
        {
            var info = graph.Inputs[i];
            if (inputs.TryGetValue(info.Name, out var v))
            {
                Check(info, v, bindings);
                values[i] = v;
            }
            else if (!graph.Initializers.ContainsKey(info.Name))
                throw new InputException($"input '{info.Name}' ({info.Type}) was not given");
        }
        trace?.Begin();
        var run = new RunState(Options, bindings, _pool, cancellation, trace);
        var plan = executor is null ? _scheduler?.PlanFor(s => bindings[s]) : null;
        if (plan?.Hyper is { } hyper) return RunSplit(hyper, run, values);
        var frame = TakeFrame();
        LoomValue[] outputs = [];
        (Array, int)[] reclaimable;
        try
        {
            frame.BeginRun();
            outputs = executor is not null ? executor(_main, run, values, frame)
                : plan is { IsParallel: true }
                ? (frame.Scheduled ??= new ParallelRun(_main, _scheduler!.Lifetimes)).Execute(plan, run, values, frame)
                : _main.Execute(run, null, values, frame);
        }
        finally
        {
            reclaimable = frame.EndRun(outputs);
            _frames.Add(frame);
        }
        var named = new NamedValue[outputs.Length];
        for (int i = 0; i < named.Length; i++) named[i] = new NamedValue(graph.Outputs[i].Name, outputs[i]);
        return new RunResult(named, reclaimable.Length > 0 ? frame : null, reclaimable);
    }

    /// <summary>The compiled main graph (steps in the order emitted programs number them).</summary>
    internal CompiledGraph Main => _main;

    private ExecutionFrame TakeFrame() => _frames.TryTake(out var frame) ? frame : new ExecutionFrame(_main);

    /// <summary>Runs the batch as sub-batches side by side (hyperclustering) and joins their outputs.</summary>
    private RunResult RunSplit(Hypercluster hyper, RunState run, LoomValue?[] values)
    {
        var frames = hyper.SubBatches.Select(_ => TakeFrame()).ToArray();
        var whole = TakeFrame(); // the whole batch's joined values (pooled, as a run's outputs), and the tail when the copies stop before the end
        foreach (var f in frames) f.BeginRun();
        whole.BeginRun();
        var split = new HyperclusterRun(_main, hyper, run, values, frames, whole);
        LoomValue[] outputs = [];
        (Array, int)[] reclaimable;
        try { outputs = split.Execute(); }
        finally
        {
            reclaimable = whole.EndRun(outputs);
            _frames.Add(whole);
            // Given back last first: the bag hands a thread's frames back newest first, so the next split takes each frame for the
            // same role (and footprint) again, and no frame keeps buffers for both a copy's sub-batch and the whole batch.
            for (int k = frames.Length - 1; k >= 0; k--)
            {
                frames[k].GiveBack(frames[k].EndRun(split.CopyOutputs(k))); // joined copies: the copies' own buffers are free again
                _frames.Add(frames[k]);
            }
        }
        var named = new NamedValue[outputs.Length];
        for (int i = 0; i < named.Length; i++) named[i] = new NamedValue(Model.Graph.Outputs[i].Name, outputs[i]);
        return new RunResult(named, reclaimable.Length > 0 ? whole : null, reclaimable);
    }

    private static void Check(ValueInfo info, LoomValue value, SymbolBindings bindings)
    {
        if (value is null) throw new InputException($"input '{info.Name}' is null");
        switch (info.Type, value)
        {
            case (null, _):
                return;
            case (TensorType expected, Tensor t):
                if (expected.ElementType != DataType.Undefined && expected.ElementType != t.DataType)
                    throw new InputException($"input '{info.Name}' must be {expected.ElementType.Name()}, but a {t.DataType.Name()} tensor was given");
                if (expected.Shape is not null && bindings.Unify(expected.Shape, t.Shape) is { } why)
                    throw new InputException($"input '{info.Name}' must have shape {expected.Shape}, but {ShapeMath.Format(t.Shape)} was given: {why}");
                return;
            case (TensorType, _):
                throw new InputException($"input '{info.Name}' must be a tensor, but {value.Type} was given");
            case (SequenceType, not (TensorSequence or MapSequence)):
                throw new InputException($"input '{info.Name}' must be a sequence, but {value.Type} was given");
            case (OptionalType, not OptionalValue):
                throw new InputException($"input '{info.Name}' must be an optional, but {value.Type} was given");
        }
    }

    public void Dispose()
    {
        if (_pool.IsValueCreated && Options.SharedPool is null) _pool.Value.Dispose();
    }
}
