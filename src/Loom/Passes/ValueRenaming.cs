using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Renames values of a graph: node inputs and outputs, and the reads of subgraphs that capture them
/// from this graph (down to where a subgraph defines the same name itself). The graph's own inputs
/// and outputs keep their names — callers never map those, as they are the graph's interface.
/// </summary>
internal static class ValueRenaming
{
    /// <summary>
    /// Applies <paramref name="map"/>, followed transitively (a→b, b→c renames a to c); returns
    /// <paramref name="graph"/> itself when no name it uses is mapped.
    /// </summary>
    public static Graph Apply(Graph graph, IReadOnlyDictionary<string, string> map)
    {
        if (map.Count == 0) return graph;
        string Resolve(string name)
        {
            for (int guard = 0; map.TryGetValue(name, out var next) && guard <= map.Count; guard++) name = next;
            return name;
        }
        return graph.WithNodes(graph.Nodes.Select(n => RenameNode(n, Resolve, renameOutputs: true)));
    }

    /// <summary>
    /// Names some subgraph of <paramref name="graph"/> (at any depth) defines for itself. A read of an outer
    /// value cannot be redirected to such a name: inside that subgraph it would mean the local value.
    /// </summary>
    public static HashSet<string> DefinedInSubgraphs(Graph graph)
    {
        var names = new HashSet<string>();
        void Collect(Graph g)
        {
            names.UnionWith(g.Inputs.Select(i => i.Name));
            names.UnionWith(g.Initializers.Keys);
            foreach (var n in g.Nodes)
            {
                names.UnionWith(n.Outputs);
                foreach (var s in n.Subgraphs) Collect(s);
            }
        }
        foreach (var s in graph.Nodes.SelectMany(n => n.Subgraphs)) Collect(s);
        return names;
    }

    private static Node RenameNode(Node n, Func<string, string> resolve, bool renameOutputs)
    {
        n = n.WithInputs(n.Inputs.Select(i => i.Length == 0 ? i : resolve(i)));
        if (renameOutputs) n = n.WithOutputs(n.Outputs.Select(o => o.Length == 0 ? o : resolve(o)));
        return n.WithSubgraphs(g => RenameCaptures(g, resolve));
    }

    /// <summary>Renames what a subgraph reads from enclosing graphs; names it defines itself shadow the outer ones.</summary>
    private static Graph RenameCaptures(Graph g, Func<string, string> resolve)
    {
        var local = new HashSet<string>(g.Inputs.Select(i => i.Name));
        local.UnionWith(g.Initializers.Keys);
        foreach (var n in g.Nodes) local.UnionWith(n.Outputs);
        string Outer(string name) => local.Contains(name) ? name : resolve(name);
        var renamed = g.WithNodes(g.Nodes.Select(n => RenameNode(n, Outer, renameOutputs: false)));
        // A subgraph output may name an outer value directly (an If branch returning a captured value).
        return renamed.WithOutputs(g.Outputs.Select(o => Outer(o.Name) is var r && r != o.Name ? o with { Name = r } : o));
    }
}
