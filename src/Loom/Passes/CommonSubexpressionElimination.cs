using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Common-subexpression elimination. A node computing what an earlier node of the same graph computes
/// — same operator, domain, inputs (after earlier merges) and attributes — is removed and its outputs
/// read from the earlier node; likewise an initializer with the same dtype, shape and bits as an earlier
/// one. Runs in every graph; reads from subgraphs follow the renaming.
///
/// Safe because a pure operator gives equal outputs for equal inputs. Not merged: random operators,
/// operators of other domains, nodes with subgraphs, and nodes or initializers whose name is a graph
/// output or input (the interface keeps its names).
/// </summary>
public static class CommonSubexpressionElimination
{
    public static Model Run(Model model) => model.WithGraph(Eliminate(model.Graph));

    public static Graph Eliminate(Graph g)
    {
        var interfaceNames = g.Inputs.Select(i => i.Name).Concat(g.Outputs.Select(o => o.Name)).ToHashSet();
        var map = DuplicateInitializers(g, interfaceNames);
        var first = new Dictionary<NodeSignature, Node>();
        var nodes = new List<Node>(g.Nodes.Length);
        foreach (var original in g.Nodes)
        {
            var node = original.WithSubgraphs(Eliminate).WithInputs(original.Inputs.Select(i => map.GetValueOrDefault(i, i)));
            var signature = OpSemantics.IsPure(node) ? NodeSignature.Of(node) : null;
            if (signature is null) { nodes.Add(node); continue; }
            if (!first.TryGetValue(signature, out var earlier)) first[signature] = node;
            else if (!node.Outputs.Any(interfaceNames.Contains) && CoversOutputs(earlier, node))
            {
                for (int i = 0; i < node.Outputs.Length; i++)
                    if (node.Outputs[i].Length > 0) map[node.Outputs[i]] = earlier.Outputs[i];
                continue;
            }
            nodes.Add(node);
        }
        if (map.Count == 0) return g.WithNodes(nodes);
        var merged = new Graph(g.Name, g.Inputs, g.Outputs, nodes,
            g.Initializers.RemoveRange(map.Keys), g.ValueTypes.RemoveRange(map.Keys));
        return ValueRenaming.Apply(merged, map);
    }

    /// <summary>The earlier node produces every output the later one does (an omitted output cannot stand in).</summary>
    private static bool CoversOutputs(Node earlier, Node later) =>
        later.Outputs.Select((o, i) => o.Length == 0 || earlier.Outputs[i].Length > 0).All(b => b);

    /// <summary>Maps each initializer equal to an earlier one (in name order) to that one.</summary>
    private static Dictionary<string, string> DuplicateInitializers(Graph g, HashSet<string> interfaceNames)
    {
        var map = new Dictionary<string, string>();
        var byHash = new Dictionary<int, List<string>>();
        foreach (var (name, t) in g.Initializers.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (interfaceNames.Contains(name)) continue;
            var hash = TensorEquality.Hash(t);
            if (!byHash.TryGetValue(hash, out var bucket)) byHash[hash] = bucket = new List<string>();
            var same = bucket.FirstOrDefault(other => TensorEquality.Equal(g.Initializers[other], t));
            if (same is not null) map[name] = same;
            else bucket.Add(name);
        }
        return map;
    }
}
