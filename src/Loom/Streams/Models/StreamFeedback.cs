using Loom.IR;

namespace Loom.Streams.Models;

/// <summary>One state fed back: item n's model output <see cref="Output"/> is item n + 1's model input <see cref="Input"/>.</summary>
public readonly record struct FeedbackPair(string Output, string Input);

/// <summary>
/// The recurrent state of a model run as a stream (<see cref="ModelStreamOptions.Feedback"/>): which outputs feed
/// which inputs, checked against the model, and each state's first value. The stage holding the state keeps it
/// per run (<see cref="Run"/>): the state a run starts from, and after each item the value that item made.
/// </summary>
internal sealed class StreamFeedback
{
    public IReadOnlyList<FeedbackPair> Pairs { get; }

    private StreamFeedback(IReadOnlyList<FeedbackPair> pairs) => Pairs = pairs;

    /// <summary>The pairs checked against the model's inputs and outputs; null when there are none.</summary>
    public static StreamFeedback? Of(IReadOnlyDictionary<string, string>? feedback, LoomSession model)
    {
        if (feedback is null || feedback.Count == 0) return null;
        var pairs = new List<FeedbackPair>();
        var fed = new HashSet<string>();
        foreach (var (output, input) in feedback.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var o = model.Outputs.FirstOrDefault(x => x.Name == output)
                ?? throw new InputException($"feedback '{output}' → '{input}': the model has no output '{output}' (outputs: {string.Join(", ", model.Outputs.Select(x => x.Name))})");
            var i = model.Inputs.FirstOrDefault(x => x.Name == input)
                ?? throw new InputException($"feedback '{output}' → '{input}': the model has no input '{input}' (inputs: {string.Join(", ", model.Inputs.Select(x => x.Name))})");
            if (!fed.Add(input)) throw new InputException($"feedback: input '{input}' is fed by more than one output");
            if (o.ElementType != DataType.Undefined && i.ElementType != DataType.Undefined && o.ElementType != i.ElementType)
                throw new InputException($"feedback '{output}' → '{input}': the output is {o.ElementType.Name()}, the input {i.ElementType.Name()}");
            pairs.Add(new FeedbackPair(output, input));
        }
        return new StreamFeedback(pairs);
    }

    /// <summary>
    /// Line positions [First, Last] that one stage must hold: every reader of a fed-back input and the maker of
    /// its output (a later stage reading the input would see the next item's state); null when no node is involved.
    /// </summary>
    public (int First, int Last)? Span(CutProfile profile)
    {
        int first = int.MaxValue, last = int.MinValue;
        var names = Pairs.SelectMany(p => new[] { p.Input, p.Output }).ToHashSet();
        for (int k = 0; k < profile.Line.Length; k++)
        {
            var node = profile.Line[k];
            if (TopologicalSort.UsedNames(node).Any(u => Pairs.Any(p => p.Input == u)) || node.Outputs.Any(names.Contains))
            {
                first = Math.Min(first, k);
                last = Math.Max(last, k);
            }
        }
        return first <= last ? (first, last) : null;
    }

    /// <summary>Zeros of each fed-back input's type at the planned sizes (the state before the first item), where its shape is known.</summary>
    public Dictionary<string, Tensor> Initial(IR.Graph concrete)
    {
        var initial = new Dictionary<string, Tensor>();
        foreach (var p in Pairs)
            if (concrete.Inputs.FirstOrDefault(i => i.Name == p.Input)?.Type is TensorType { Shape: { } s } t && s.Dims.All(d => d.IsKnown))
                initial[p.Input] = Tensor.Zeros(t.ElementType, s.Dims.Select(d => checked((int)d.Constant)).ToArray());
        return initial;
    }

    /// <summary>The state of one run of the stream: what the next item reads for each fed-back input.</summary>
    public sealed class Run(StreamFeedback feedback, IReadOnlyDictionary<string, Tensor> initial)
    {
        private readonly Dictionary<string, LoomValue> _state = initial.ToDictionary(kv => kv.Key, kv => (LoomValue)kv.Value);

        /// <summary>Puts the state into the feeds of an item that does not give it (one that does restarts it).</summary>
        public void Feed(long seq, IReadOnlyDictionary<string, LoomValue> item, Dictionary<string, LoomValue> feeds)
        {
            foreach (var p in feedback.Pairs)
            {
                if (item.ContainsKey(p.Input)) continue;
                feeds[p.Input] = _state.TryGetValue(p.Input, out var v) ? v
                    : throw new InputException($"stream item {seq} does not give '{p.Input}' (state fed back from '{p.Output}') and its size is not known: give it in the first item");
            }
        }

        /// <summary>
        /// Keeps the item's outputs as the next item's state: copies, because the item's results go back to their
        /// pool when the caller disposes them (and an output may be a view of the fed-in state).
        /// </summary>
        public void Keep(RunResult result)
        {
            foreach (var p in feedback.Pairs)
                foreach (var nv in result)
                    if (nv.Name == p.Output) _state[p.Input] = nv.Value is Tensor t ? t.Clone() : nv.Value;
        }
    }
}
