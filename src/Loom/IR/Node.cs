using System.Collections.Immutable;

namespace Loom.IR;

/// <summary>
/// One operator application. Immutable: the <c>With…</c> methods return this same object when nothing
/// changes, so a pass that rewrites nothing allocates nothing. Inputs and outputs are value names;
/// an empty name is an omitted optional input or output, as in ONNX.
/// </summary>
public sealed class Node
{
    public Node(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs,
        IEnumerable<Attribute>? attributes = null, string name = "", string domain = "")
    {
        OpType = opType;
        Inputs = inputs.ToImmutableArray();
        Outputs = outputs.ToImmutableArray();
        Attributes = attributes?.ToImmutableArray() ?? ImmutableArray<Attribute>.Empty;
        Name = name;
        Domain = OpsetImports.NormalizeDomain(domain);
    }

    public string Name { get; }
    public string OpType { get; }

    /// <summary>Operator domain; the default ONNX domain is the empty string.</summary>
    public string Domain { get; }

    public ImmutableArray<string> Inputs { get; }
    public ImmutableArray<string> Outputs { get; }
    public ImmutableArray<Attribute> Attributes { get; }

    /// <summary>How error messages name this node: its name if it has one, else its op and first output.</summary>
    public string DisplayName => Name.Length > 0 ? $"'{Name}' ({OpType})" : $"{OpType} -> '{Outputs.FirstOrDefault() ?? ""}'";

    public Attribute? GetAttribute(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a;
        return null;
    }

    public bool HasAttribute(string name) => GetAttribute(name) is not null;

    public long GetInt(string name, long defaultValue) => GetAttribute(name)?.AsInt() ?? defaultValue;
    public float GetFloat(string name, float defaultValue) => GetAttribute(name)?.AsFloat() ?? defaultValue;
    public string GetString(string name, string defaultValue) => GetAttribute(name)?.AsString() ?? defaultValue;
    public ImmutableArray<long>? GetInts(string name) => GetAttribute(name)?.AsInts();
    public ImmutableArray<float>? GetFloats(string name) => GetAttribute(name)?.AsFloats();

    /// <summary>True when input <paramref name="i"/> is present (not past the end and not an empty name).</summary>
    public bool HasInput(int i) => i < Inputs.Length && Inputs[i].Length > 0;
    public bool HasOutput(int i) => i < Outputs.Length && Outputs[i].Length > 0;

    public IEnumerable<Graph> Subgraphs => Attributes.SelectMany(a => a.Subgraphs);

    public Node WithInputs(IEnumerable<string> inputs)
    {
        var i = inputs.ToImmutableArray();
        return i.SequenceEqual(Inputs) ? this : new Node(OpType, i, Outputs, Attributes, Name, Domain);
    }

    public Node WithOutputs(IEnumerable<string> outputs)
    {
        var o = outputs.ToImmutableArray();
        return o.SequenceEqual(Outputs) ? this : new Node(OpType, Inputs, o, Attributes, Name, Domain);
    }

    public Node WithAttributes(IEnumerable<Attribute> attributes)
    {
        var a = attributes.ToImmutableArray();
        return a.SequenceEqual(Attributes) ? this : new Node(OpType, Inputs, Outputs, a, Name, Domain);
    }

    public Node WithName(string name) => name == Name ? this : new Node(OpType, Inputs, Outputs, Attributes, name, Domain);

    /// <summary>Rewrites every subgraph through <paramref name="rewrite"/>; same node if none changed.</summary>
    public Node WithSubgraphs(Func<Graph, Graph> rewrite)
    {
        if (!Attributes.Any(a => a.Kind is AttributeKind.Graph or AttributeKind.Graphs)) return this;
        return WithAttributes(Attributes.Select(a => a.WithGraphs(a.Subgraphs.Select(rewrite).ToList())));
    }

    public override string ToString() => TextForm.FormatNode(this, null);
}
