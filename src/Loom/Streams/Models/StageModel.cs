using Loom.IR;

namespace Loom.Streams.Models;

/// <summary>
/// One pipeline stage as a model of its own: the nodes of a contiguous slice of the optimized graph, with
/// what crosses into it as inputs, what later stages (or the caller) need as outputs, and the weights its
/// nodes read — the same tensor objects as the whole model's, so a stage adds no copy of them.
/// </summary>
internal static class StageModel
{
    /// <param name="nodes">The stage's nodes, in an order valid for them (a slice of <see cref="CutProfile.Line"/>).</param>
    public static Model Slice(Model model, IReadOnlyList<Node> nodes, int first, int end, IReadOnlyList<string> reads, IReadOnlyList<string> writes)
    {
        var g = model.Graph;
        var used = nodes.SelectMany(TopologicalSort.UsedNames).ToHashSet();
        var weights = g.Initializers.Where(kv => used.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        var made = nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0).ToHashSet();
        var types = g.ValueTypes.Where(kv => made.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        // The model's outputs this stage makes come first, in the model's order, so the last stage's result
        // can be handed to the caller as it is.
        var modelOutputs = g.Outputs.Select(o => o.Name).Where(writes.Contains).ToList();
        var outputs = modelOutputs.Concat(writes.Except(modelOutputs)).Select(v => new ValueInfo(v, TypeOf(g, v))).ToList();
        var inputs = reads.Select(v => new ValueInfo(v, TypeOf(g, v))).ToList();
        var graph = new IR.Graph($"{g.Name}.stage{first}-{end - 1}", inputs, outputs, nodes, weights, types);
        return new Model(graph, model.Opsets.Versions, model.IrVersion);
    }

    private static IrType? TypeOf(IR.Graph g, string v) =>
        g.Inputs.FirstOrDefault(i => i.Name == v)?.Type ?? g.Outputs.FirstOrDefault(o => o.Name == v)?.Type ?? g.TypeOf(v);
}
