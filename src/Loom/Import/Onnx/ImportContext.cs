using Loom.Import.Onnx.Proto;

namespace Loom.Import.Onnx;

/// <summary>What an import needs to know while it walks a model: where it came from (for messages and external data) and its limits.</summary>
internal sealed class ImportContext(string where, string? baseDirectory, LoomSessionOptions options)
{
    private int _freshSymbols;

    /// <summary>How messages name the model: its file path, or "model bytes".</summary>
    public string Where { get; } = where;
    public string? BaseDirectory { get; } = baseDirectory;
    public LoomSessionOptions Options { get; } = options;

    /// <summary>Model-local functions by (domain, name), inlined where they are called.</summary>
    public Dictionary<(string Domain, string Name), FunctionProto> Functions { get; } = new();

    public ModelFormatException Format(string message) => new($"{Where}: {message}");

    /// <summary>A new symbol for a dimension the model leaves unnamed and unsized.</summary>
    public string FreshSymbol() => $"unk__{_freshSymbols++}";
}
