using Loom.IR;

namespace Loom.Runtime;

/// <summary>
/// The sizes one run gives to the model's symbolic dims. A symbol is bound the first time a concrete
/// size meets it; every later meeting must agree, otherwise the inputs contradict the model.
/// </summary>
internal sealed class SymbolBindings(SymbolBindings? parent = null)
{
    private readonly Dictionary<string, long> _values = new();
    private readonly Lock _lock = new(); // nodes of one run may run on several threads at once

    /// <summary>
    /// Bindings of one subgraph execution (a Loop iteration, say): symbols first met inside it are
    /// bound only there, because a loop-carried value may change shape from one iteration to the next.
    /// </summary>
    public SymbolBindings Child() => new(this);

    public long? this[string symbol]
    {
        get
        {
            lock (_lock) if (_values.TryGetValue(symbol, out var v)) return v;
            return parent?[symbol];
        }
    }

    /// <summary>Matches concrete dims against a symbolic shape; returns an explanation of the first mismatch, or null.</summary>
    public string? Unify(Shape expected, ReadOnlySpan<int> actual)
    {
        lock (_lock) return UnifyLocked(expected, actual);
    }

    private string? UnifyLocked(Shape expected, ReadOnlySpan<int> actual)
    {
        if (expected.Rank != actual.Length) return $"rank {actual.Length} where {expected.Rank} was expected ({expected})";
        for (int i = 0; i < actual.Length; i++)
        {
            var d = expected[i];
            if (d.SymbolName is { } s)
            {
                if (this[s] is { } bound)
                {
                    if (bound != actual[i]) return $"dim {i} is {actual[i]}, but '{s}' is already {bound} in this run";
                }
                else _values[s] = actual[i];
                continue;
            }
            var v = d.Evaluate(name => this[name]);
            if (v is null) continue; // an expression over symbols not yet bound: nothing to check yet
            if (v.Value != actual[i]) return $"dim {i} is {actual[i]}, but the model says {d} = {v.Value}";
        }
        return null;
    }
}
