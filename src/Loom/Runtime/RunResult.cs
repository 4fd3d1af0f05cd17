using System.Collections;

namespace Loom;

/// <summary>A model output: its name and value.</summary>
public readonly record struct NamedValue(string Name, LoomValue Value);

/// <summary>The outputs of one <see cref="LoomSession.Run(IReadOnlyDictionary{string, LoomValue})"/>, in the model's output order, also reachable by name.</summary>
public sealed class RunResult : IReadOnlyList<NamedValue>, IDisposable
{
    private readonly NamedValue[] _outputs;

    internal RunResult(NamedValue[] outputs) => _outputs = outputs;

    public int Count => _outputs.Length;
    public NamedValue this[int index] => _outputs[index];

    public LoomValue this[string name]
    {
        get
        {
            foreach (var o in _outputs) if (o.Name == name) return o.Value;
            throw new InputException($"the model has no output named '{name}' (outputs: {string.Join(", ", _outputs.Select(o => o.Name))})");
        }
    }

    /// <summary>The named output, which must be a tensor.</summary>
    public Tensor Tensor(string name) => this[name] as Tensor ?? throw new InputException($"output '{name}' is not a tensor");

    public IEnumerator<NamedValue> GetEnumerator() => ((IEnumerable<NamedValue>)_outputs).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Returns pooled buffers (none yet: outputs are ordinary arrays).</summary>
    public void Dispose() { }
}
