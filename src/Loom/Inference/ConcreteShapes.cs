using Loom.IR;

namespace Loom.Inference;

/// <summary>
/// A graph re-inferred with its inputs at given sizes. Symbolic inference leaves some dims as fresh symbols
/// (<c>d__N</c>) that no input size binds — a broadcast of two dims it cannot prove equal, as in a detector's
/// neck where an upsampled map is added to a skip connection — so costs read off the symbolic graph treat
/// those values as unknown. Re-inferring from concrete inputs gives every value its real size.
/// </summary>
public static class ConcreteShapes
{
    /// <summary>The graph with inputs at the sizes <paramref name="dims"/> gives and every value re-inferred; same nodes, same order.</summary>
    public static Graph Infer(Graph graph, OpsetImports opsets, Func<string, long?> dims)
    {
        var inputs = graph.Inputs.Select(i => i.Type is TensorType { Shape: { } s } t && !graph.Initializers.ContainsKey(i.Name)
            ? new ValueInfo(i.Name, new TensorType(t.ElementType, new Shape(s.Dims.Select(d => d.Evaluate(dims) is { } v ? Dim.Of(v) : d))))
            : i);
        try { return ShapeInference.Run(new Model(graph.WithInputs(inputs), opsets.Versions)).Graph; }
        catch (LoomException e)
        {
            var sizes = graph.Inputs.SelectMany(i => (i.Type as TensorType)?.Shape?.Dims.SelectMany(d => d.Symbols) ?? []).Distinct()
                .Select(x => $"{x}={dims(x)?.ToString() ?? "?"}");
            throw new InputException($"the model's inputs do not fit the sizes {string.Join(", ", sizes)}: {e.Message}");
        }
    }

    /// <summary>True when some value's shape has a symbol that is not one of <paramref name="inputSymbols"/>: only then is re-inferring needed.</summary>
    public static bool HasInnerSymbols(Graph graph, IReadOnlyCollection<string> inputSymbols) =>
        graph.ValueTypes.Values.Any(t => t is TensorType { Shape: { } s } && s.Dims.Any(d => d.Symbols.Any(x => !inputSymbols.Contains(x))));
}
