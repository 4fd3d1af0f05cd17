using Loom.Conformance;

namespace Loom.Streams.Models;

/// <summary>
/// Made-up inputs for running a model as a stream (the CLI, the bench, tests): item i of a float input holds
/// x[k] = ((k + 131·i) mod n) / n, so every item differs and an output in the wrong place is caught; inputs of
/// other types take <see cref="ConformanceRunner.DeterministicInput"/>.
/// </summary>
public static class StreamInputs
{
    public static Dictionary<string, LoomValue> Item(IEnumerable<ValueMetadata> inputs, IReadOnlyDictionary<string, long> dims, int index)
    {
        var feeds = new Dictionary<string, LoomValue>();
        foreach (var i in inputs)
        {
            var t = ConformanceRunner.DeterministicInput(i, s => dims.TryGetValue(s, out var v) ? v : null);
            if (t.DataType == DataType.Float)
            {
                var x = t.ToArray<float>();
                int n = x.Length;
                for (int k = 0; k < n; k++) x[k] = (float)((k + 131L * index) % n) / n;
                t = Tensor.FromArray(x, t.Shape);
            }
            feeds[i.Name] = t;
        }
        return feeds;
    }

    public static List<Dictionary<string, LoomValue>> Items(IEnumerable<ValueMetadata> inputs, IReadOnlyDictionary<string, long> dims, int count)
    {
        var list = inputs.ToList();
        return Enumerable.Range(0, count).Select(i => Item(list, dims, i)).ToList();
    }
}
