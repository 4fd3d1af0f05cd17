using System.Collections;

namespace Loom;

/// <summary>A model output: its name and value.</summary>
public readonly record struct NamedValue(string Name, LoomValue Value);

/// <summary>The outputs of one <see cref="LoomSession.Run(IReadOnlyDictionary{string, LoomValue})"/>, in the model's output order, also reachable by name.</summary>
public sealed class RunResult : IReadOnlyList<NamedValue>, IDisposable
{
    private readonly NamedValue[] _outputs;
    private Runtime.Memory.ExecutionFrame? _frame;
    private readonly (Array, int)[] _reclaimable;

    internal RunResult(NamedValue[] outputs, Runtime.Memory.ExecutionFrame? frame = null, (Array, int)[]? reclaimable = null)
    {
        _outputs = outputs;
        _frame = frame;
        _reclaimable = reclaimable ?? [];
    }

    /// <summary>Outputs that are views of memory <paramref name="owner"/> holds (a batch's, split per item): disposing the result disposes the owner once.</summary>
    internal RunResult(NamedValue[] outputs, IDisposable owner)
    {
        _outputs = outputs;
        _reclaimable = [];
        _owner = owner;
    }

    private IDisposable? _owner;

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

    /// <summary>
    /// Hands the output tensors' memory back to the session for later runs. Do not use these tensors
    /// after disposing the result (copy them first with <see cref="Loom.Tensor.Clone"/> if you need them
    /// longer); a result that is never disposed keeps its tensors valid for as long as they are referenced.
    /// </summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _frame, null)?.GiveBack(_reclaimable);
        Interlocked.Exchange(ref _owner, null)?.Dispose();
    }
}
