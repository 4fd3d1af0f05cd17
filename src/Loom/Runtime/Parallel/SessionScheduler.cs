using System.Collections.Concurrent;
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

    public SessionScheduler(CompiledGraph graph, LoomSessionOptions options)
    {
        _graph = graph;
        _options = options;
        _steps = graph.Steps.Where(s => !s.IsConstant).Select(s => s.Index).ToArray();
        _inputSymbols = graph.Graph.Inputs.SelectMany(i => (i.Type as TensorType)?.Shape?.Dims.SelectMany(d => d.Symbols) ?? [])
            .Distinct().Order(StringComparer.Ordinal).ToArray();
        Lifetimes = new ValueLifetimes(graph);
    }

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

    /// <summary>Builds the schedule at the given dims (what <c>loom explain</c> shows).</summary>
    public ParallelPlan Build(Func<string, long?> dims)
    {
        _cost ??= new CostModel(_options.MachineProfile ?? MachineProfile.ForThisMachine(_options.IntraOpThreads));
        var dataflow = new ModelDataflow(_graph.Graph, _steps, dims, _cost);
        var schedule = Scheduler.Build(dataflow.Graph, dataflow.WideWeights, _options.IntraOpThreads, _options.InterOpOnly);
        return new ParallelPlan(dataflow, schedule, _options.InterOpOnly);
    }
}
