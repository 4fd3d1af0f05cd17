using System.Collections.Immutable;
using Loom.Inference;
using Loom.IR;
using Loom.Scheduling;
using Loom.Streams.Graph;

namespace Loom.Streams.Models;

/// <summary>
/// An ONNX model run over a stream of inputs, pipelined and data-parallel across cores: the optimized graph is
/// cut into stages (contiguous slices, <see cref="CutProfile"/>), each a stateless filter of a stream graph run
/// by a session of its own at one intra-op thread, with copies of a stage sharing that session
/// (<see cref="StreamPlanner"/> chooses stages and copies from the cost model). Outputs come back in input
/// order and equal separate <see cref="LoomSession.Run(IReadOnlyDictionary{string, LoomValue}, CancellationToken)"/> calls.
/// <code>
/// using var stream = ModelStream.Load("model.onnx", new ModelStreamOptions { Cores = 2 });
/// foreach (var result in stream.Stream(frames)) { using (result) Use(result.Tensor("y")); }
/// </code>
/// </summary>
public sealed class ModelStream : IDisposable
{
    private readonly ModelStreamOptions _options;
    private readonly Model _optimized;
    private readonly string _name;
    private readonly Lock _planLock = new();
    private readonly StreamFeedback? _feedback;
    private LoomSession? _whole; // the optimized model at one thread: the stage of a one-stage plan, dropped otherwise
    private Planned? _planned;

    private sealed record Planned(ModelStreamPlan Plan, StreamNode Graph, StreamExecutor Executor, LoomSession[] Sessions);

    private ModelStream(LoomSession whole, ModelStreamOptions options, string name)
    {
        _options = options;
        _whole = whole;
        _optimized = whole.Model;
        _name = name;
        Inputs = whole.Inputs;
        Outputs = whole.Outputs;
        try { _feedback = StreamFeedback.Of(options.Feedback, whole); }
        catch { whole.Dispose(); throw; }
        if (KnownDims(options.Dims ?? new Dictionary<string, long>()) is { } dims) MakePlan(dims);
    }

    /// <summary>Loads an ONNX model file (external data from its folder) and, when its input sizes are known, plans it.</summary>
    public static ModelStream Load(string path, ModelStreamOptions? options = null)
    {
        options ??= new ModelStreamOptions();
        Check(options);
        return new ModelStream(LoomSession.Load(path, SessionOptions(options, options.OptimizationLevel)), options, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Streams a model already in Loom's IR.</summary>
    public static ModelStream Create(Model model, ModelStreamOptions? options = null)
    {
        options ??= new ModelStreamOptions();
        Check(options);
        return new ModelStream(LoomSession.Create(model, SessionOptions(options, options.OptimizationLevel)), options, model.Graph.Name);
    }

    private static void Check(ModelStreamOptions o)
    {
        if (o.Cores < 1) throw new InputException($"ModelStreamOptions.Cores must be at least 1, not {o.Cores}");
        if (o.Stages is < 1) throw new InputException($"ModelStreamOptions.Stages must be at least 1, not {o.Stages}");
        if (o.MaxFoldedTensorBytes < 0) throw new InputException($"ModelStreamOptions.MaxFoldedTensorBytes must not be negative, not {o.MaxFoldedTensorBytes}");
        if (o.ItemsPerFiring is < 1) throw new InputException($"ModelStreamOptions.ItemsPerFiring must be at least 1, not {o.ItemsPerFiring}");
        if (o.MaxInFlight < 0) throw new InputException($"ModelStreamOptions.MaxInFlight must not be negative, not {o.MaxInFlight}");
    }

    private static LoomSessionOptions SessionOptions(ModelStreamOptions o, int level) => new()
    {
        IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential, OptimizationLevel = level, MachineProfile = o.MachineProfile,
        MaxFoldedTensorBytes = o.MaxFoldedTensorBytes,
    };

    /// <summary>The options of a one-core session comparable with a stream's stages (the bench's baseline): one thread, the same passes and folding.</summary>
    public static LoomSessionOptions OneCoreSessionOptions(ModelStreamOptions? options = null) =>
        SessionOptions(options ?? new ModelStreamOptions(), (options ?? new ModelStreamOptions()).OptimizationLevel);

    public ImmutableArray<ValueMetadata> Inputs { get; }
    public ImmutableArray<ValueMetadata> Outputs { get; }

    /// <summary>The plan; null until the input sizes are known (from <see cref="ModelStreamOptions.Dims"/> or the first item).</summary>
    public ModelStreamPlan? Plan => _planned?.Plan;

    /// <summary>The stream graph of the plan (a pipeline of stage filters, fissioned stages as round-robin split-joins).</summary>
    public StreamNode? StreamGraph => _planned?.Graph;

    /// <summary>
    /// The plan's stages as models of their own (inputs: what crosses in; outputs: what later stages or the caller
    /// need), for running them elsewhere — on other processes or machines — with the plan's order of stages.
    /// </summary>
    public IReadOnlyList<Model> StageModels()
    {
        var planned = _planned ?? throw new InputException("the stream has no plan yet: give ModelStreamOptions.Dims or run an item first");
        if (planned.Plan.Stages.Count == 1) return [_optimized];
        return planned.Sessions.Select(s => s.Model).ToList();
    }

    /// <summary>Items, wall time and per-stage busy time of the last run that went to its end.</summary>
    public StreamStats? LastStats => _planned?.Executor.LastStats;

    /// <summary>Runs every input and returns the outputs in input order (each result the caller's to dispose).</summary>
    public IReadOnlyList<RunResult> Run(IEnumerable<IReadOnlyDictionary<string, LoomValue>> inputs, CancellationToken cancellation = default) =>
        Stream(inputs, cancellation).ToList();

    /// <summary>
    /// Runs the inputs as they come and yields each output, in input order, as soon as it and all before it are
    /// done; at most <see cref="ModelStreamOptions.MaxInFlight"/> items are taken ahead of the one the caller waits for.
    /// </summary>
    public IEnumerable<RunResult> Stream(IEnumerable<IReadOnlyDictionary<string, LoomValue>> inputs, CancellationToken cancellation = default) =>
        Stream(inputs, null, cancellation);

    /// <summary>
    /// <see cref="Stream(IEnumerable{IReadOnlyDictionary{string, LoomValue}}, CancellationToken)"/>, recording each item's
    /// time in each stage into <paramref name="trace"/> (one track per thread; <see cref="RunTrace.WriteChromeJson"/>).
    /// </summary>
    public IEnumerable<RunResult> Stream(IEnumerable<IReadOnlyDictionary<string, LoomValue>> inputs, RunTrace? trace, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var planned = _planned;
        if (planned is null)
        {
            var e = inputs.GetEnumerator();
            if (!e.MoveNext()) { e.Dispose(); yield break; }
            var first = e.Current ?? throw new InputException("stream item 0 is null");
            // Plan at the first item's sizes; an item that leaves a size unknown would give a plan costed on nothing.
            var dims = DimsOf(first);
            if (KnownDims(dims) is null)
                throw new InputException($"stream item 0 does not give every input's sizes ({string.Join(", ", Inputs.SelectMany(i => i.Symbols).Distinct().Where(x => !dims.ContainsKey(x)))} unknown): "
                    + $"expected {string.Join(", ", Inputs.Select(i => $"{i.Name}: {i.Type}"))}");
            planned = MakePlan(dims);
            inputs = Prepend(first, e);
        }
        int window = _options.MaxInFlight > 0 ? _options.MaxInFlight : 2 * planned.Plan.ItemsPerRound;
        foreach (var r in planned.Executor.Run(inputs, window, cancellation, trace)) yield return r;
    }

    private static IEnumerable<T> Prepend<T>(T first, IEnumerator<T> rest)
    {
        using (rest)
        {
            yield return first;
            while (rest.MoveNext()) yield return rest.Current;
        }
    }

    /// <summary>The sizes of every symbolic input dim, or null when one is missing.</summary>
    private Dictionary<string, long>? KnownDims(IReadOnlyDictionary<string, long> given)
    {
        var dims = new Dictionary<string, long>(given);
        foreach (var i in Inputs)
            foreach (var s in i.Symbols)
                if (!dims.ContainsKey(s)) return null;
        return dims;
    }

    /// <summary>Symbol sizes read off the first item's tensors (a dim that is a bare symbol takes the tensor's size there).</summary>
    private Dictionary<string, long> DimsOf(IReadOnlyDictionary<string, LoomValue> item)
    {
        var dims = new Dictionary<string, long>(_options.Dims ?? new Dictionary<string, long>());
        foreach (var i in Inputs)
            if (i.Shape is { } shape && item.TryGetValue(i.Name, out var v) && v is Tensor t && t.Shape.Length == shape.Rank)
                for (int k = 0; k < shape.Rank; k++)
                    if (shape[k].Symbols.ToList() is [var s] && shape[k].ToString() == s) dims.TryAdd(s, t.Shape[k]);
        return dims;
    }

    private Planned MakePlan(IReadOnlyDictionary<string, long> dims)
    {
        lock (_planLock)
        {
            if (_planned is not null) return _planned;
            var profile = _options.MachineProfile ?? MachineProfile.ForThisMachine(Environment.ProcessorCount);
            var concrete = Concrete(dims);
            var cuts = new CutProfile(_optimized.Graph, concrete, new CostModel(profile));
            if (_feedback is not null)
                cuts.Together = _feedback.Span(cuts) ?? throw new InputException($"feedback: no node reads {string.Join(", ", _feedback.Pairs.Select(p => $"'{p.Input}'"))} or makes {string.Join(", ", _feedback.Pairs.Select(p => $"'{p.Output}'"))}");
            var batched = new Dictionary<(int, int), Model?>();
            string? WhyNotBatch(int first, int end)
            {
                var model = BatchGeneralization.Apply(Slice(cuts, first, end), out var why);
                batched[(first, end)] = model;
                return model is null ? $"not batch-separable: {why}" : null;
            }
            var plan = StreamPlanner.Plan(cuts, _options.Cores, _options.Stages, _options.PrivateCacheBytes ?? CacheSizes.PrivateBytes(), _options.ItemsPerFiring, WhyNotBatch,
                _options.SharedCacheBytes ?? CacheSizes.LastLevelBytes());
            LoomSession[] sessions;
            if (plan.Stages.Count == 1 && plan.Stages[0].ItemsPerFiring == 1) sessions = [_whole!];
            else
            {
                // A stage running several items per firing gets the batch-generalized model (batch b, or fewer at the
                // stream's end); the same session runs it, so it packs its weights once.
                sessions = plan.Stages.Select(s => LoomSession.Create(s.ItemsPerFiring > 1 ? batched[(s.First, s.End)]! : Slice(cuts, s.First, s.End), SessionOptions(_options, 0))).ToArray();
                _whole!.Dispose();
                _whole = null; // its compiled kernels (packed weights) would be a second copy of every stage's
            }
            int stateful = plan.Stages.ToList().FindIndex(s => s.Stateful);
            var runners = plan.Stages.Select((s, i) => i == stateful
                ? new StageRunner(i, sessions[i], [.. s.Reads, .. _feedback!.Pairs.Select(p => p.Input).Where(n => !s.Reads.Contains(n))], s.Replicas, _feedback, _feedback.Initial(concrete))
                : new StageRunner(i, sessions[i], [.. s.Reads], s.Replicas) { Batch = s.ItemsPerFiring > 1 ? new StageBatch(s.ItemsPerFiring) : null }).ToArray();
            var outputs = _optimized.Graph.Outputs.Select(o => o.Name).ToArray();
            bool lastHasAll = outputs.All(plan.Stages[^1].Writes.Contains) && sessions[^1].Outputs.Length == outputs.Length;
            var executor = new StreamExecutor(runners, [.. Inputs.Select(i => i.Name)], lastHasAll, outputs);
            return _planned = new Planned(plan, plan.ToStreamGraph(_name), executor, sessions);
        }
    }

    /// <summary>Nodes [first, end) of the line as a model of their own (the whole optimized model when that is all of it).</summary>
    private Model Slice(CutProfile cuts, int first, int end)
    {
        if (first == 0 && end == cuts.Count) return _optimized;
        var reads = cuts.Reads(first, end);
        var writes = cuts.Writes(first, end);
        return StageModel.Slice(_optimized, [.. cuts.Recomputed(first, end).Select(k => cuts.Line[k]), .. cuts.Line[first..end]], first, end, reads, writes);
    }

    /// <summary>The optimized graph re-inferred with the inputs at the planned sizes, so every value's bytes and FLOPs are known.</summary>
    private IR.Graph Concrete(IReadOnlyDictionary<string, long> dims) => ConcreteGraph(_optimized, dims);

    /// <summary>The optimized graph re-inferred at the given input sizes (also for cutting a model across cluster silos).</summary>
    internal static IR.Graph ConcreteGraph(Model optimized, IReadOnlyDictionary<string, long> dims) =>
        ConcreteShapes.Infer(optimized.Graph, optimized.Opsets, s => dims.TryGetValue(s, out var v) ? v : null);

    public void Dispose()
    {
        _whole?.Dispose();
        if (_planned is { } p)
        {
            p.Executor.Dispose();
            foreach (var s in p.Sessions) s.Dispose();
        }
    }
}
