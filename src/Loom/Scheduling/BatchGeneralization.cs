using Loom.Inference;
using Loom.IR;

namespace Loom.Scheduling;

/// <summary>
/// Lets a model exported for one image at a time run on a batch: when every input's first dim is the
/// literal 1, it becomes the symbol <c>batch</c>, Reshape targets that spell the batch as a literal 1 copy
/// it instead (0), and shapes are inferred again. Kept only if the result is provably batch-separable
/// (<see cref="BatchSeparability"/>): then each sample is computed exactly as the original model would.
/// </summary>
public static class BatchGeneralization
{
    /// <summary>The generalized model with inferred types, or null (and why) when the model does not qualify.</summary>
    public static Model? Apply(Model model, out string? reason)
    {
        var g = model.Graph;
        if (!g.RequiredInputs.Any() || g.RequiredInputs.Any(i => i.Type is not TensorType { Shape: { Rank: >= 1 } s } || s[0].Value != 1))
        {
            reason = "not every input has a first dim of 1";
            return null;
        }
        var taken = g.AllNodes().SelectMany(n => n.Inputs.Concat(n.Outputs)).Concat(g.Initializers.Keys).Concat(g.Inputs.Select(i => i.Name)).ToHashSet();
        string batch = "batch";
        for (int k = 2; g.Inputs.Any(i => (i.Type as TensorType)?.Shape?.Dims.Any(d => d.Symbols.Contains(batch)) == true); k++) batch = $"batch{k}";

        var derived = g.RequiredInputs.Select(i => i.Name).ToHashSet();
        var constants = new Dictionary<string, Tensor>(g.Initializers);
        foreach (var n in g.Nodes)
            if (n.OpType == "Constant" && n.Outputs.Length == 1 && Inference.Rules.BasicRules.ConstantValue(n) is { } c) constants[n.Outputs[0]] = c;
        var inits = new Dictionary<string, Tensor>(g.Initializers);
        var nodes = new List<Node>();
        foreach (var n in g.Nodes)
        {
            var node = n;
            if (n.OpType == "Reshape" && derived.Contains(n.Inputs[0]) && n.GetInt("allowzero", 0) == 0 && n.HasInput(1)
                && constants.TryGetValue(n.Inputs[1], out var target) && target.DataType == DataType.Int64 && target.Rank == 1
                && target.Length > 0 && target.AsSpan<long>()[0] == 1)
            {
                var copy = target.Clone();
                copy.AsSpan<long>()[0] = 0; // 0: the first dim of the input, which is the batch
                var name = $"{n.Inputs[1]}_batch";
                for (int k = 2; !taken.Add(name); k++) name = $"{n.Inputs[1]}_batch{k}";
                inits[name] = copy;
                node = n.WithInputs([n.Inputs[0], name, .. n.Inputs.Skip(2)]);
            }
            if (TopologicalSort.UsedNames(n).Any(derived.Contains)) derived.UnionWith(n.Outputs.Where(o => o.Length > 0));
            nodes.Add(node);
        }

        var inputs = g.Inputs.Select(i => g.Initializers.ContainsKey(i.Name) || i.Type is not TensorType { Shape: { } s } t ? i
            : i with { Type = new TensorType(t.ElementType, new Shape(s.Dims.Select((d, k) => k == 0 ? Dim.Symbol(batch) : d))) });
        var outputs = g.Outputs.Select(o => o with { Type = null }); // inferred again, with the batch
        var open = new Graph(g.Name, inputs, outputs, nodes, inits);
        Model inferred;
        try { inferred = ShapeInference.Run(model.WithGraph(open)); }
        catch (LoomException e)
        {
            reason = $"shapes do not infer with a free batch: {e.Message}";
            return null;
        }
        reason = BatchSeparability.Check(inferred.Graph, batch);
        return reason is null ? inferred : null;
    }
}
