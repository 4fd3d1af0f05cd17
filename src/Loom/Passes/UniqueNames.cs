using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Hands out value names no graph of a model uses yet, so a new initializer can neither collide with
/// an existing value nor shadow one a subgraph captures.
/// </summary>
internal sealed class UniqueNames
{
    private readonly HashSet<string> _taken = new();

    public UniqueNames(Graph root) => Collect(root);

    private void Collect(Graph g)
    {
        foreach (var i in g.Inputs) _taken.Add(i.Name);
        foreach (var o in g.Outputs) _taken.Add(o.Name);
        _taken.UnionWith(g.Initializers.Keys);
        foreach (var n in g.Nodes)
        {
            _taken.UnionWith(n.Inputs);
            _taken.UnionWith(n.Outputs);
            foreach (var s in n.Subgraphs) Collect(s);
        }
    }

    /// <summary><paramref name="baseName"/> with a suffix, unique in the model, and from now on taken.</summary>
    public string Derive(string baseName, string suffix)
    {
        var name = $"{baseName}_{suffix}";
        for (int k = 2; !_taken.Add(name); k++) name = $"{baseName}_{suffix}{k}";
        return name;
    }
}
