namespace Loom.IR;

/// <summary>
/// Orders a graph's nodes so every value is defined before it is used (Kahn's algorithm, stable:
/// nodes already in order keep their order). Values from enclosing graphs count as defined.
/// A cycle is a <see cref="GraphException"/> naming the nodes on it.
/// </summary>
public static class TopologicalSort
{
    public static Graph Sort(Graph g, IReadOnlySet<string>? outerScope = null)
    {
        var producer = new Dictionary<string, int>();
        for (int i = 0; i < g.Nodes.Length; i++)
            foreach (var o in g.Nodes[i].Outputs)
                if (o.Length > 0 && !producer.TryAdd(o, i))
                    throw new GraphException($"graph '{g.Name}': value '{o}' is produced by both {g.Nodes[producer[o]].DisplayName} and {g.Nodes[i].DisplayName}");

        var deps = new List<int>[g.Nodes.Length];
        var pending = new int[g.Nodes.Length];
        var users = new List<int>[g.Nodes.Length];
        for (int i = 0; i < g.Nodes.Length; i++) users[i] = new List<int>();
        for (int i = 0; i < g.Nodes.Length; i++)
        {
            var set = new HashSet<int>();
            foreach (var name in UsedNames(g.Nodes[i]))
                if (producer.TryGetValue(name, out var p) && p != i) set.Add(p);
                else if (producer.TryGetValue(name, out p) && p == i)
                    throw new GraphException($"graph '{g.Name}': node {g.Nodes[i].DisplayName} uses its own output '{name}' (a cycle)");
            deps[i] = set.ToList();
            pending[i] = set.Count;
            foreach (var d in set) users[d].Add(i);
        }

        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < pending.Length; i++) if (pending[i] == 0) ready.Enqueue(i, i);
        var order = new List<Node>(g.Nodes.Length);
        bool changed = false;
        while (ready.TryDequeue(out var i, out _))
        {
            if (i != order.Count) changed = true;
            order.Add(g.Nodes[i]);
            foreach (var u in users[i]) if (--pending[u] == 0) ready.Enqueue(u, u);
        }
        if (order.Count != g.Nodes.Length)
        {
            var stuck = Enumerable.Range(0, g.Nodes.Length).Where(i => pending[i] > 0).Take(5).Select(i => g.Nodes[i].DisplayName);
            throw new GraphException($"graph '{g.Name}' has a cycle through nodes {string.Join(", ", stuck)}");
        }
        return changed ? g.WithNodes(order) : g;
    }

    /// <summary>Value names a node reads, including names its subgraphs read from enclosing scopes.</summary>
    public static IEnumerable<string> UsedNames(Node n)
    {
        foreach (var i in n.Inputs) if (i.Length > 0) yield return i;
        foreach (var g in n.Subgraphs)
            foreach (var name in FreeVariables(g)) yield return name;
    }

    /// <summary>Names a graph uses but does not define: what it captures from enclosing graphs.</summary>
    public static IEnumerable<string> FreeVariables(Graph g)
    {
        var defined = new HashSet<string>(g.Inputs.Select(i => i.Name));
        defined.UnionWith(g.Initializers.Keys);
        foreach (var n in g.Nodes) foreach (var o in n.Outputs) defined.Add(o);
        var free = new HashSet<string>();
        foreach (var n in g.Nodes)
            foreach (var u in UsedNames(n))
                if (!defined.Contains(u)) free.Add(u);
        foreach (var o in g.Outputs) if (!defined.Contains(o.Name)) free.Add(o.Name);
        return free;
    }
}
