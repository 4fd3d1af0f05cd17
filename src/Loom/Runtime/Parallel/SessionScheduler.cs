using System.Collections.Concurrent;
using Loom.Inference;
using Loom.IR;
using Loom.Scheduling;

namespace Loom.Runtime.Parallel;

/// <summary>
/// A session's schedules: one per set of sizes of the input symbols (the cost model needs concrete
/// dims), built the first time a run meets them — at load time for models whose inputs are all concrete —
/// and kept. The plan of the latest sizes is checked first, so a steady stream of runs looks nothing up.
/// </summary>
internal sealed class SessionScheduler
{
    private readonly CompiledGraph _graph;
    private readonly LoomSessionOptions _options;
    private readonly int[] _steps;
    private readonly string[] _inputSymbols;
    private readonly ConcurrentDictionary<string, ParallelPlan> _plans = new();
    private Latest? _latest; // a reference, so concurrent runs read it whole

    private sealed record Latest(long[] Sizes, ParallelPlan Plan);
    private CostModel? _cost;

    /// <summary>The cost model the schedules use (its machine profile is probed, or read from the cache, on first use).</summary>
    public CostModel Cost => _cost ??= new CostModel(_options.MachineProfile ?? MachineProfile.ForThisMachine(_options.IntraOpThreads));

    public SessionScheduler(CompiledGraph graph, LoomSessionOptions options)
    {
        _graph = graph;
        _options = options;
        _steps = graph.Steps.Where(s => !s.IsConstant).Select(s => s.Index).ToArray();
        _inputSymbols = graph.Graph.Inputs.SelectMany(i => (i.Type as TensorType)?.Shape?.Dims.SelectMany(d => d.Symbols) ?? [])
            .Distinct().Order(StringComparer.Ordinal).ToArray();
        Lifetimes = new ValueLifetimes(graph);
        _separability = new Lazy<(string?, string?)>(Separability);
        _innerSymbols = new Lazy<bool>(() => ConcreteShapes.HasInnerSymbols(graph.Graph, _inputSymbols));
        _constantValues = new Lazy<HashSet<string>>(() => graph.Steps.Where(s => s.IsConstant).SelectMany(s => s.Node.Outputs).ToHashSet());
    }

    private readonly Lazy<HashSet<string>> _constantValues;

    private readonly Lazy<(string? Batch, string? Why)> _separability;

    public ValueLifetimes Lifetimes { get; }

    /// <summary>True when every input dim is known, so the schedule can be made before the first run.</summary>
    public bool InputsAreConcrete => _inputSymbols.Length == 0;

    /// <summary>The plan for the input sizes <paramref name="sizeOf"/> gives (symbols not bound count as unknown).</summary>
    public ParallelPlan PlanFor(Func<string, long?> sizeOf)
    {
        var sizes = new long[_inputSymbols.Length];
        for (int i = 0; i < sizes.Length; i++) sizes[i] = sizeOf(_inputSymbols[i]) ?? -1;
        if (_latest is { } latest && latest.Sizes.AsSpan().SequenceEqual(sizes)) return latest.Plan;
        var key = string.Join(",", sizes);
        var plan = _plans.GetOrAdd(key, _ => Build(s => Array.IndexOf(_inputSymbols, s) is var k and >= 0 && sizes[k] >= 0 ? sizes[k] : null));
        _latest = new Latest(sizes, plan);
        return plan;
    }

    /// <summary>Builds the schedule at the given dims (what <c>loom explain</c> shows), splitting the batch when that is faster.</summary>
    public ParallelPlan Build(Func<string, long?> dims)
    {
        var graph = GraphAt(dims);
        var dataflow = new ModelDataflow(graph, _steps, dims, Cost);
        int workers = _options.IntraOpThreads;
        // A profile probed on a slow or shared core has two-thread timings that describe that moment's load: branches side by
        // side chosen on them lost to running every node with all threads (DenseNet-121 43.8 against 32.6 ms, SqueezeNet 6.67
        // against 5.24, 2026-11-27). Until a quiet probe replaces it, every node gets all threads.
        var schedule = Scheduler.Build(dataflow.Graph, dataflow.WideWeights, workers, _options.InterOpOnly, sideBySide: !Cost.Profile.ProbedBusy);
        var plan = new ParallelPlan(dataflow, schedule, _options.InterOpOnly);
        if (_separability.Value.Batch is not { } batch || dims(batch) is not { } size || size < 2) return plan;
        // One sub-batch per worker, sizes as equal as can be, is what the split is predicted on; each copy runs its nodes one by
        // one on one thread. Where samples become the rows of a matrix product, a sub-batch of one would take the
        // matrix-vector path, whose float rounding differs from the matrix-matrix path of the whole batch: two rows at least.
        int rows = HasRowProducts ? 2 : 1, copies = (int)Math.Min(size / rows, workers);
        if (copies < 2) return plan;
        var subBatches = EqualParts(size, copies);
        Func<string, long?> subDims = s => s == batch ? subBatches[0] : dims(s);
        var sub = new ModelDataflow(GraphAt(subDims), _steps, subDims, Cost);
        var hyper = BestSplit(batch, subBatches, sub, dataflow, graph, dims);
        // The copies run as sub-batches as small as allowed, up to two per worker, which the workers claim as they finish one:
        // copies of one image each kept smaller planes than one copy per worker of two and balanced the cores as they went
        // (the PP-OCR detector at batch 4 on two threads: [1,1,1,1] 1.76–1.90× faster than one thread against 1.69–1.72× as
        // [2,2], DenseNet-121 2.04 against 1.96; 2026-11-27, runs alternating in one process). Whether to split stays decided
        // on one copy per worker, as before: the cost model's predictions for these smaller copies were not checked against runs.
        hyper = hyper with { SubBatches = EqualParts(size, (int)Math.Min(size / rows, 2 * workers)) };
        return hyper.PredictedMakespan < schedule.PredictedMakespan ? new ParallelPlan(dataflow, schedule, _options.InterOpOnly) { Hyper = hyper } : plan;
    }

    private static int[] EqualParts(long size, int parts) =>
        Enumerable.Range(0, parts).Select(k => (int)(size / parts + (k < size % parts ? 1 : 0))).ToArray();

    /// <summary>
    /// The graph whose value sizes the cost model reads at <paramref name="dims"/>: the compiled one when its inputs' symbols
    /// give every value's size, else the graph re-inferred from inputs of those sizes. A detector's neck adds upsampled maps to
    /// skip connections, and symbolic inference cannot prove the two sizes equal: the sums, and every node after them, got
    /// fresh symbols no input binds and were costed as if one pixel wide (PP-OCRv4's head at 640×640 predicted 0.02 ms
    /// against 6.4 measured for its widest convolution), so the schedule ran the head beside nothing.
    /// </summary>
    private Graph GraphAt(Func<string, long?> dims) =>
        _innerSymbols.Value ? ConcreteShapes.Infer(_graph.Graph, _graph.Opsets, dims) : _graph.Graph;

    private readonly Lazy<bool> _innerSymbols;

    /// <summary>
    /// The faster of two ways to split: every node in the copies, or the copies only up to the first node that streams a
    /// weight from memory and the rest (the tail) on the whole batch with every thread, so those weights stream once.
    /// Copies each stream all of their weights at the same time and share the memory's bandwidth: at batch 4 on two threads
    /// AlexNet ran 1.73× faster split whole against 1.92× not split, ZFNet 1.76× and 1.92× (2026-11-27).
    /// </summary>
    private Hypercluster BestSplit(string batch, int[] subBatches, ModelDataflow sub, ModelDataflow whole, Graph graph, Func<string, long?> dims)
    {
        int n = _steps.Length, copies = subBatches.Length;
        var streamed = _steps.Select(StreamedWeightSeconds).ToArray();
        double Prefix(int until) => Enumerable.Range(0, until).Sum(i => sub.Costs[i].BesideSeconds + (copies - 1) * streamed[i]);
        var all = new Hypercluster(batch, subBatches, Prefix(n), whole.Graph.TotalWork);
        int from = Array.FindIndex(streamed, s => s > 0);
        if (from <= 0 || CutValues(_steps[from], batch) is not { } cut) return all;
        double join = Cost.Transfer(cut.Sum(name => CostModel.BytesOf(name, graph, dims)));
        double tail = Enumerable.Range(from, n - from).Sum(i => whole.WideWeights[i]);
        var split = all with { PredictedMakespan = Prefix(from) + join + tail, TailStart = _steps[from], TailNode = whole.Labels[from], CutSlots = cut.Select(c => _graph.SlotOf[c]).ToArray() };
        return split.PredictedMakespan < all.PredictedMakespan ? split : all;
    }

    /// <summary>
    /// The values steps before <paramref name="tailStart"/> make and later steps (or the outputs) use: the copies' results
    /// the tail reads, joined along the batch. Null unless every one has the batch as its first dim (so joining is exact).
    /// </summary>
    private string[]? CutValues(int tailStart, string batch)
    {
        var g = _graph.Graph;
        var made = _graph.Steps.Where(s => !s.IsConstant && s.Index < tailStart).SelectMany(s => s.Node.Outputs).Where(o => o.Length > 0).ToHashSet();
        var used = _graph.Steps.Where(s => !s.IsConstant && s.Index >= tailStart).SelectMany(s => TopologicalSort.UsedNames(s.Node))
            .Concat(g.Outputs.Select(o => o.Name));
        var cut = used.Where(made.Contains).Distinct().ToArray();
        return cut.All(c => g.TypeOf(c) is TensorType { Shape: { Rank: >= 1 } s } && s[0].SymbolName == batch) ? cut : null;
    }

    /// <summary>Weights at least this big do not stay in the caches between runs: every use streams them from memory.</summary>
    private const long StreamedWeightBytes = 16L << 20;

    /// <summary>
    /// One-thread seconds step <paramref name="index"/> spends streaming the weights too big for the caches (AlexNet's, ZFNet's
    /// and VGG's fully connected layers: 16–411 MB). Copies of the graph each stream all of them at the same time and share
    /// the memory's bandwidth, where one run with all threads on the node streams them once: each further copy is charged
    /// one more pass over these weights.
    /// </summary>
    private double StreamedWeightSeconds(int index)
    {
        var g = _graph.Graph;
        var step = _graph.Steps[index];
        double perByte = Cost.Profile.Single[(int)CostModel.Classify(step.Node, g)].SecondsPerPackedByte, seconds = 0;
        // Weights: initializers, or values computed once from them (constant steps, as light models build theirs with ConstantOfShape).
        foreach (var name in step.Node.Inputs)
            if ((g.Initializers.ContainsKey(name) || _constantValues.Value.Contains(name)) && CostModel.BytesOf(name, g, _ => null) is var bytes && bytes >= StreamedWeightBytes)
                seconds += bytes * perByte;
        return seconds;
    }

    private bool HasRowProducts => _graph.Graph.Nodes.Any(n => n.OpType is "Gemm" or "MatMul" or "MatMulInteger" or "QLinearMatMul" or "FusedMatMul");

    /// <summary>Whether the batch may be split: null when it may, else why not (for <c>loom explain</c>).</summary>
    public string? WhyNotSeparable => _separability.Value.Why;

    private (string? Batch, string? Why) Separability()
    {
        if (BatchSeparability.BatchSymbol(_graph.Graph) is not { } b) return (null, "the inputs share no symbolic first dim");
        return BatchSeparability.Check(_graph.Graph, b) is { } why ? (null, why) : (b, null);
    }
}
