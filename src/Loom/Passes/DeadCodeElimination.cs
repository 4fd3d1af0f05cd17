using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Dead-code elimination. Removes nodes none of whose outputs is read — by a later node, a subgraph
/// capturing it, or as a graph output — repeatedly (walking backwards, so whole dead chains go at once),
/// then initializers nothing reads, in every graph (subgraphs first, as what they capture keeps outer
/// values alive). Also drops inferred types of values that no longer exist.
///
/// Safe because a value nobody reads cannot affect any output. Kept: graph inputs (the interface),
/// initializers that are also inputs (overridable defaults), and nodes of non-ONNX domains (or with such
/// nodes in their subgraphs), whose side effects Loom cannot know; what they read stays alive.
/// </summary>
public static class DeadCodeElimination
{
    public static Model Run(Model model) => model.WithGraph(Prune(model.Graph));

    public static Graph Prune(Graph g)
    {
        var nodes = g.Nodes.Select(n => n.WithSubgraphs(Prune)).ToList();
        var live = new HashSet<string>(g.Outputs.Select(o => o.Name));
        var keep = new bool[nodes.Count];
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var n = nodes[i];
            keep[i] = OpSemantics.MayHaveSideEffects(n) || n.Outputs.Any(live.Contains);
            if (keep[i]) live.UnionWith(TopologicalSort.UsedNames(n));
        }
        var inputs = g.Inputs.Select(i => i.Name).ToHashSet();
        var deadInits = g.Initializers.Keys.Where(k => !live.Contains(k) && !inputs.Contains(k)).ToList();
        var kept = nodes.Where((_, i) => keep[i]).ToList();
        if (deadInits.Count == 0 && kept.Count == g.Nodes.Length) return g.WithNodes(kept);

        var defined = kept.SelectMany(n => n.Outputs).ToHashSet();
        var types = g.ValueTypes.Keys.Where(k => !defined.Contains(k) && !inputs.Contains(k) && !live.Contains(k)).ToList();
        return new Graph(g.Name, g.Inputs, g.Outputs, kept, g.Initializers.RemoveRange(deadInits), g.ValueTypes.RemoveRange(types));
    }
}
