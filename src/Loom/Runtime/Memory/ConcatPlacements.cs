using System.Collections.Concurrent;
using Loom.Inference;
using Loom.IR;

namespace Loom.Runtime.Memory;

/// <summary>
/// A main graph's <see cref="ConcatPlacement"/> for each set of input sizes. The plan needs every Concat input's size, and a
/// model with symbolic inputs knows them only at run time — some not even from the inputs' symbols, as the PP-OCR detector's
/// neck, whose upsampled maps have fresh symbols (<c>d__N</c>) symbolic inference cannot tie to the input (its Concat copied
/// 9.8 MB an image at 640×640). So for each new set of input sizes the graph is re-inferred from inputs of those sizes
/// (<see cref="ConcreteShapes"/>) and planned again; the plan of the latest sizes is checked first, so a steady stream of runs
/// looks nothing up. The same safety holds as for a plan made at compile time: the frame places a value only when its size is
/// the one planned, and the Concat copies whatever is not where it belongs.
/// </summary>
internal sealed class ConcatPlacements
{
    /// <summary>Plans kept at most; runs at further sizes use the compile-time plan (no re-inference per run).</summary>
    private const int MaxSizes = 16;

    private readonly Graph _graph;
    private readonly OpsetImports _opsets;
    private readonly IReadOnlyList<CompiledGraph.Step> _steps;
    private readonly string[] _inputSymbols;
    private readonly ConcurrentDictionary<string, ConcatPlacement> _plans = new();
    private Latest? _latest; // a reference, so concurrent runs read it whole

    private sealed record Latest(long[] Sizes, ConcatPlacement Placement);

    public ConcatPlacements(Graph graph, OpsetImports opsets, IReadOnlyList<CompiledGraph.Step> steps, Func<string, IrType?> typeOf)
    {
        _graph = graph;
        _opsets = opsets;
        _steps = steps;
        Static = ConcatPlacement.Plan(graph, steps, typeOf);
        _inputSymbols = graph.Inputs.Where(i => !graph.Initializers.ContainsKey(i.Name))
            .SelectMany(i => (i.Type as TensorType)?.Shape?.Dims.SelectMany(d => d.Symbols) ?? []).Distinct().Order(StringComparer.Ordinal).ToArray();
        // Worth re-planning only when some Concat the compile-time plan left alone has a size it does not know.
        _sized = _inputSymbols.Length > 0 && steps.Any(s => s.Node is { OpType: "Concat", Domain: "" } n && n.Inputs.Length >= 2
            && !Static.TryConcat(s.Index, out _) && n.Inputs.Append(n.Outputs[0]).Any(v => typeOf(v) is TensorType { Shape: { } shape } && shape.ToKnown() is null));
    }

    /// <summary>The plan made at compile time, from the symbolic shapes.</summary>
    public ConcatPlacement Static { get; }

    private readonly bool _sized;

    /// <summary>The plan for a run whose inputs bound the symbols as <paramref name="bindings"/> says.</summary>
    public ConcatPlacement For(SymbolBindings bindings)
    {
        if (!_sized) return Static;
        // Sizes on the stack: a steady stream of runs at the latest sizes allocates nothing here.
        Span<long> now = _inputSymbols.Length <= 16 ? stackalloc long[_inputSymbols.Length] : new long[_inputSymbols.Length];
        for (int i = 0; i < now.Length; i++)
            if (bindings[_inputSymbols[i]] is { } v) now[i] = v;
            else return Static;
        if (_latest is { } latest && latest.Sizes.AsSpan().SequenceEqual(now)) return latest.Placement;
        var sizes = now.ToArray();
        var key = string.Join(",", sizes);
        if (!_plans.TryGetValue(key, out var plan))
        {
            if (_plans.Count >= MaxSizes) return Static;
            plan = _plans.GetOrAdd(key, _ => PlanAt(sizes));
        }
        _latest = new Latest(sizes, plan);
        return plan;
    }

    private ConcatPlacement PlanAt(long[] sizes)
    {
        Graph concrete;
        try { concrete = ConcreteShapes.Infer(_graph, _opsets, s => Array.IndexOf(_inputSymbols, s) is var k and >= 0 ? sizes[k] : null); }
        catch (LoomException) { return Static; } // the run itself reports inputs that do not fit
        return ConcatPlacement.Plan(_graph, _steps, concrete.TypeOf);
    }
}
