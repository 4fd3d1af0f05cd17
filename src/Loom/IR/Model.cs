using System.Collections.Immutable;

namespace Loom.IR;

/// <summary>A whole model: the main graph, the operator sets it was written against, and metadata.</summary>
public sealed class Model
{
    public Model(Graph graph, IReadOnlyDictionary<string, int> opsets, long irVersion = 8,
        string producerName = "", string producerVersion = "", string domain = "", long modelVersion = 0,
        string docString = "", IReadOnlyDictionary<string, string>? metadata = null)
    {
        Graph = graph;
        Opsets = new OpsetImports(opsets);
        IrVersion = irVersion;
        ProducerName = producerName;
        ProducerVersion = producerVersion;
        Domain = domain;
        ModelVersion = modelVersion;
        DocString = docString;
        Metadata = (metadata ?? new Dictionary<string, string>()).ToImmutableDictionary();
    }

    public Graph Graph { get; }
    public OpsetImports Opsets { get; }
    public long IrVersion { get; }
    public string ProducerName { get; }
    public string ProducerVersion { get; }
    public string Domain { get; }
    public long ModelVersion { get; }
    public string DocString { get; }
    public ImmutableDictionary<string, string> Metadata { get; }

    public Model WithGraph(Graph graph) => ReferenceEquals(graph, Graph) ? this
        : new Model(graph, Opsets.Versions, IrVersion, ProducerName, ProducerVersion, Domain, ModelVersion, DocString, Metadata);

    public override string ToString() => TextForm.FormatModel(this);
}

/// <summary>The opset version a model imports per operator domain ("" is the default ONNX domain).</summary>
public sealed class OpsetImports(IReadOnlyDictionary<string, int> versions)
{
    public ImmutableDictionary<string, int> Versions { get; } =
        versions.ToImmutableDictionary(kv => NormalizeDomain(kv.Key), kv => kv.Value);

    /// <summary>The imported version of <paramref name="domain"/>, or null if the model does not import it.</summary>
    public int? this[string domain] => Versions.TryGetValue(NormalizeDomain(domain), out var v) ? v : null;

    public static string NormalizeDomain(string domain) => domain == "ai.onnx" ? "" : domain;
}
