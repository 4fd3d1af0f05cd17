using System.Collections.Immutable;
using System.Globalization;

namespace Loom.IR;

public enum AttributeKind { Float, Int, String, Tensor, Graph, Floats, Ints, Strings, Tensors, Graphs, Type, Types }

/// <summary>A named, typed, immutable node attribute.</summary>
public sealed class Attribute
{
    private readonly object _value;

    private Attribute(string name, AttributeKind kind, object value)
    {
        Name = name;
        Kind = kind;
        _value = value;
    }

    public string Name { get; }
    public AttributeKind Kind { get; }

    public static Attribute Float(string name, float v) => new(name, AttributeKind.Float, v);
    public static Attribute Int(string name, long v) => new(name, AttributeKind.Int, v);
    public static Attribute String(string name, string v) => new(name, AttributeKind.String, v);
    public static Attribute Tensor(string name, Loom.Tensor v) => new(name, AttributeKind.Tensor, v);
    public static Attribute Graph(string name, Graph v) => new(name, AttributeKind.Graph, v);
    public static Attribute Floats(string name, IEnumerable<float> v) => new(name, AttributeKind.Floats, v.ToImmutableArray());
    public static Attribute Ints(string name, IEnumerable<long> v) => new(name, AttributeKind.Ints, v.ToImmutableArray());
    public static Attribute Strings(string name, IEnumerable<string> v) => new(name, AttributeKind.Strings, v.ToImmutableArray());
    public static Attribute Tensors(string name, IEnumerable<Loom.Tensor> v) => new(name, AttributeKind.Tensors, v.ToImmutableArray());
    public static Attribute Graphs(string name, IEnumerable<Graph> v) => new(name, AttributeKind.Graphs, v.ToImmutableArray());
    public static Attribute Type(string name, IrType v) => new(name, AttributeKind.Type, v);
    public static Attribute Types(string name, IEnumerable<IrType> v) => new(name, AttributeKind.Types, v.ToImmutableArray());

    public float AsFloat() => Kind == AttributeKind.Int ? (long)_value : Get<float>(AttributeKind.Float);
    public long AsInt() => Get<long>(AttributeKind.Int);
    public string AsString() => Get<string>(AttributeKind.String);
    public Loom.Tensor AsTensor() => Get<Loom.Tensor>(AttributeKind.Tensor);
    public Graph AsGraph() => Get<Graph>(AttributeKind.Graph);
    public ImmutableArray<float> AsFloats() => Get<ImmutableArray<float>>(AttributeKind.Floats);
    public ImmutableArray<long> AsInts() => Get<ImmutableArray<long>>(AttributeKind.Ints);
    public ImmutableArray<string> AsStrings() => Get<ImmutableArray<string>>(AttributeKind.Strings);
    public ImmutableArray<Loom.Tensor> AsTensors() => Get<ImmutableArray<Loom.Tensor>>(AttributeKind.Tensors);
    public ImmutableArray<Graph> AsGraphs() => Get<ImmutableArray<Graph>>(AttributeKind.Graphs);
    public IrType AsType() => Get<IrType>(AttributeKind.Type);
    public ImmutableArray<IrType> AsTypes() => Get<ImmutableArray<IrType>>(AttributeKind.Types);

    /// <summary>The subgraphs this attribute holds (none unless it is a graph attribute).</summary>
    public IEnumerable<Graph> Subgraphs => Kind switch
    {
        AttributeKind.Graph => [AsGraph()],
        AttributeKind.Graphs => AsGraphs(),
        _ => [],
    };

    public Attribute WithGraphs(IReadOnlyList<Graph> graphs)
    {
        if (Kind == AttributeKind.Graph) return ReferenceEquals(graphs[0], _value) ? this : Graph(Name, graphs[0]);
        if (Kind == AttributeKind.Graphs) return AsGraphs().SequenceEqual(graphs) ? this : Graphs(Name, graphs);
        return this;
    }

    private T Get<T>(AttributeKind kind) =>
        Kind == kind ? (T)_value! : throw new GraphException($"attribute '{Name}' is {Kind}, not {kind}");

    /// <summary>The attribute's value in the IR text form.</summary>
    public string FormatValue() => (Kind switch
    {
        AttributeKind.Float => ((float)_value).ToString("R", CultureInfo.InvariantCulture),
        AttributeKind.Int => ((long)_value).ToString(CultureInfo.InvariantCulture),
        AttributeKind.String => Quote((string)_value),
        AttributeKind.Floats => "[" + string.Join(", ", AsFloats().Select(f => f.ToString("R", CultureInfo.InvariantCulture))) + "]",
        AttributeKind.Ints => "[" + string.Join(", ", AsInts()) + "]",
        AttributeKind.Strings => "[" + string.Join(", ", AsStrings().Select(Quote)) + "]",
        AttributeKind.Tensor => TextForm.FormatTensor(AsTensor()),
        AttributeKind.Tensors => "[" + string.Join(", ", AsTensors().Select(TextForm.FormatTensor)) + "]",
        AttributeKind.Graph => "graph " + AsGraph().Name,
        AttributeKind.Graphs => "[" + string.Join(", ", AsGraphs().Select(g => "graph " + g.Name)) + "]",
        AttributeKind.Type => AsType().ToString(),
        AttributeKind.Types => "[" + string.Join(", ", AsTypes()) + "]",
        _ => "?",
    })!;

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    public override string ToString() => Name + "=" + FormatValue();
}
