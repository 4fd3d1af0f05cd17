using System.Collections.Immutable;
using Loom.IR;

namespace Loom.Inference;

/// <summary>
/// Infers the dtype and (symbolic) shape of every value of a model, subgraphs included, with the rule of
/// each operator from <see cref="ShapeRules"/>. Symbolic dims flow through: a model whose input is
/// <c>[batch,3,224,224]</c> gets <c>[batch,1000]</c> at its output, so it loads once and runs at any batch.
/// Integer shape tensors are tracked as symbolic values so Shape→Gather→Concat→Reshape chains keep
/// their symbols. Values no rule can type keep their declared <c>value_info</c> type, if any.
/// </summary>
public static class ShapeInference
{
    public static Model Run(Model model, ShapeRules? rules = null)
    {
        var gi = new GraphInference(model.Graph, model.Opsets, rules ?? ShapeRules.Default, parent: null, new SymbolCounter());
        var graph = gi.Infer();
        return model.WithGraph(graph);
    }
}

internal sealed class SymbolCounter
{
    private int _next;
    public string Next() => $"d__{_next++}";
}

/// <summary>Inference state of one graph: known types, constants and symbolic values, with the enclosing graph as fallback scope.</summary>
internal sealed class GraphInference
{
    private readonly Graph _graph;
    private readonly OpsetImports _opsets;
    private readonly ShapeRules _rules;
    private readonly GraphInference? _parent;
    private readonly SymbolCounter _symbols;
    private readonly Dictionary<string, IrType> _types = new();
    private readonly Dictionary<string, Tensor> _constants = new();
    private readonly Dictionary<string, ImmutableArray<Dim>> _shapeValues = new();
    private readonly Dictionary<Graph, Graph> _inferredBodies = new(ReferenceEqualityComparer.Instance);

    public GraphInference(Graph graph, OpsetImports opsets, ShapeRules rules, GraphInference? parent, SymbolCounter symbols)
    {
        _graph = graph;
        _opsets = opsets;
        _rules = rules;
        _parent = parent;
        _symbols = symbols;
    }

    public string FreshSymbol() => _symbols.Next();

    public IrType? TypeOf(string name) =>
        _types.TryGetValue(name, out var t) ? t : _parent?.TypeOf(name);

    public Tensor? ConstantOf(string name) =>
        _constants.TryGetValue(name, out var t) ? t : _types.ContainsKey(name) ? null : _parent?.ConstantOf(name);

    public ImmutableArray<Dim>? ShapeValueOf(string name)
    {
        if (_shapeValues.TryGetValue(name, out var v)) return v;
        if (ConstantOf(name) is { } c && c.Rank <= 1 && c.Length <= 64 && (c.DataType is DataType.Int64 or DataType.Int32))
            return c.DataType == DataType.Int64
                ? c.AsSpan<long>().ToArray().Select(x => Dim.Of(x)).ToImmutableArray()
                : c.AsSpan<int>().ToArray().Select(x => Dim.Of(x)).ToImmutableArray();
        return _types.ContainsKey(name) ? null : _parent?.ShapeValueOf(name);
    }

    public Graph Infer(IReadOnlyList<IrType?>? inputOverrides = null)
    {
        for (int i = 0; i < _graph.Inputs.Length; i++)
        {
            var given = inputOverrides is not null && i < inputOverrides.Count ? inputOverrides[i] : null;
            var t = Merge(given, _graph.Inputs[i].Type);
            if (t is not null) _types[_graph.Inputs[i].Name] = t;
        }
        foreach (var (name, tensor) in _graph.Initializers)
        {
            _constants[name] = tensor;
            if (!_types.ContainsKey(name)) _types[name] = tensor.Type;
        }

        foreach (var node in _graph.Nodes) InferNode(node);

        var valueTypes = ImmutableDictionary.CreateBuilder<string, IrType>();
        foreach (var node in _graph.Nodes)
            foreach (var o in node.Outputs)
                if (o.Length > 0 && _types.TryGetValue(o, out var t)) valueTypes[o] = t;

        foreach (var o in _graph.Outputs)
            if (o.Type is TensorType declared && valueTypes.TryGetValue(o.Name, out var inferred) && inferred is TensorType actual)
                Verifier.CheckAgree(declared, actual, $"graph '{_graph.Name}' output '{o.Name}'");

        var nodes = _graph.Nodes.Select(n => n.WithSubgraphs(g => _inferredBodies.GetValueOrDefault(g) ?? g));
        var inputs = _graph.Inputs.Select(i => _types.TryGetValue(i.Name, out var t) && i.Type is null ? i with { Type = t } : i);
        var outputs = _graph.Outputs.Select(o => o.Type is null && _types.TryGetValue(o.Name, out var t) ? o with { Type = t } : o);
        return new Graph(_graph.Name, inputs, outputs, nodes, _graph.Initializers, valueTypes.ToImmutable());
    }

    private void InferNode(Node node)
    {
        int opset = _opsets[node.Domain] ?? 0;
        var ctx = new InferenceContext(this, node, opset);
        var rule = _rules.Find(node.Domain, node.OpType);
        try
        {
            rule?.Invoke(ctx);
        }
        catch (Exception e) when (e is not (LoomException or OutOfMemoryException))
        {
            // As the runtime does for kernels: a rule meeting values it did not expect (absurd constants) is an error about this node.
            throw new ShapeException($"node {node.DisplayName}: shape inference failed: {e.GetType().Name}: {e.Message}", e);
        }
        for (int i = 0; i < node.Outputs.Length; i++)
        {
            var name = node.Outputs[i];
            if (name.Length == 0) continue;
            var type = Merge(ctx.Output(i), _graph.ValueTypes.GetValueOrDefault(name));
            if (type is not null) _types[name] = type;
            if (ctx.OutputValue(i) is { } v) _shapeValues[name] = v;
            if (ctx.ConstantOutput(i) is { } c) _constants[name] = c;
        }
    }

    /// <summary>Prefers the inferred type; fills what it leaves open (unknown dtype or rank) from the declared one.</summary>
    private static IrType? Merge(IrType? inferred, IrType? declared)
    {
        if (inferred is null) return declared;
        if (declared is null) return inferred;
        if (inferred is TensorType it && declared is TensorType dt)
        {
            var elem = it.ElementType != DataType.Undefined ? it.ElementType : dt.ElementType;
            var shape = it.Shape;
            if (shape is null) shape = dt.Shape;
            else if (dt.Shape is not null && dt.Shape.Rank == shape.Rank)
                // A dim inference could only name with a fresh symbol is better known by its declared size or name.
                shape = new Shape(shape.Dims.Select((d, k) => d.SymbolName is { } s && s.StartsWith("d__", StringComparison.Ordinal) ? dt.Shape[k] : d));
            return new TensorType(elem, shape);
        }
        return inferred;
    }

    public IReadOnlyList<IrType?> InferSubgraph(Node owner, Graph body, IReadOnlyList<IrType?> inputTypes)
    {
        var child = new GraphInference(body, _opsets, _rules, this, _symbols);
        var inferred = child.Infer(inputTypes);
        _inferredBodies[body] = inferred;
        // Like a node output, a subgraph output takes its inferred type, the declared one filling gaps:
        // bodies often declare less (or, for sequences, wrongly: seq<float[]> for elements of any rank).
        return inferred.Outputs.Select(o => Merge(child.TypeOf(o.Name), o.Type)).ToList();
    }
}
