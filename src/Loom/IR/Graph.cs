using System.Collections.Immutable;

namespace Loom.IR;

/// <summary>A named, typed value at a graph boundary (an input or an output).</summary>
public sealed record ValueInfo(string Name, IrType? Type);

/// <summary>
/// A dataflow graph: inputs, initializers (constant tensors), nodes in topological order and outputs.
/// Immutable; <see cref="ValueTypes"/> holds the inferred type of every intermediate value.
/// A subgraph (body of If, Loop, Scan) may use values of the graphs around it by name.
/// </summary>
public sealed class Graph
{
    public Graph(string name,
        IEnumerable<ValueInfo> inputs,
        IEnumerable<ValueInfo> outputs,
        IEnumerable<Node> nodes,
        IReadOnlyDictionary<string, Tensor>? initializers = null,
        IReadOnlyDictionary<string, IrType>? valueTypes = null)
    {
        Name = name;
        Inputs = inputs.ToImmutableArray();
        Outputs = outputs.ToImmutableArray();
        Nodes = nodes.ToImmutableArray();
        Initializers = initializers as ImmutableDictionary<string, Tensor> ?? (initializers ?? new Dictionary<string, Tensor>()).ToImmutableDictionary();
        ValueTypes = valueTypes as ImmutableDictionary<string, IrType> ?? (valueTypes ?? new Dictionary<string, IrType>()).ToImmutableDictionary();
    }

    public string Name { get; }
    public ImmutableArray<ValueInfo> Inputs { get; }
    public ImmutableArray<ValueInfo> Outputs { get; }
    public ImmutableArray<Node> Nodes { get; }
    public ImmutableDictionary<string, Tensor> Initializers { get; }
    public ImmutableDictionary<string, IrType> ValueTypes { get; }

    /// <summary>The best known type of a value: declared input/output type, initializer type or inferred type.</summary>
    public IrType? TypeOf(string name)
    {
        if (ValueTypes.TryGetValue(name, out var t)) return t;
        if (Initializers.TryGetValue(name, out var init)) return init.Type;
        foreach (var i in Inputs) if (i.Name == name) return i.Type;
        foreach (var o in Outputs) if (o.Name == name) return o.Type;
        return null;
    }

    /// <summary>Graph inputs that have no initializer of the same name (those a caller must feed).</summary>
    public IEnumerable<ValueInfo> RequiredInputs => Inputs.Where(i => !Initializers.ContainsKey(i.Name));

    public Graph WithNodes(IEnumerable<Node> nodes)
    {
        var n = nodes.ToImmutableArray();
        return n.SequenceEqual(Nodes) ? this : new Graph(Name, Inputs, Outputs, n, Initializers, ValueTypes);
    }

    public Graph WithInputs(IEnumerable<ValueInfo> inputs)
    {
        var i = inputs.ToImmutableArray();
        return i.SequenceEqual(Inputs) ? this : new Graph(Name, i, Outputs, Nodes, Initializers, ValueTypes);
    }

    public Graph WithOutputs(IEnumerable<ValueInfo> outputs)
    {
        var o = outputs.ToImmutableArray();
        return o.SequenceEqual(Outputs) ? this : new Graph(Name, Inputs, o, Nodes, Initializers, ValueTypes);
    }

    public Graph WithInitializers(IReadOnlyDictionary<string, Tensor> initializers) =>
        ReferenceEquals(initializers, Initializers) ? this : new Graph(Name, Inputs, Outputs, Nodes, initializers, ValueTypes);

    public Graph WithValueTypes(IReadOnlyDictionary<string, IrType> valueTypes) =>
        ReferenceEquals(valueTypes, ValueTypes) ? this : new Graph(Name, Inputs, Outputs, Nodes, Initializers, valueTypes);

    /// <summary>Every node of this graph and of all nested subgraphs.</summary>
    public IEnumerable<Node> AllNodes()
    {
        foreach (var n in Nodes)
        {
            yield return n;
            foreach (var g in n.Subgraphs)
                foreach (var m in g.AllNodes()) yield return m;
        }
    }

    public override string ToString() => TextForm.FormatGraph(this);
}
