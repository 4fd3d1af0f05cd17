namespace Loom.IR;

/// <summary>
/// Checks the IR's invariants: every value is assigned once, every use sees a definition earlier in
/// the node order or in an enclosing graph (so the order is topological and the graph acyclic), graph
/// outputs are defined, and inferred types agree with declared ones. Runs after import and, in Debug
/// builds, after every pass. Throws <see cref="GraphException"/> naming the offending node or value.
/// </summary>
public static class Verifier
{
    public static void Verify(Model model) => VerifyGraph(model.Graph, new HashSet<string>(), "graph");

    public static void Verify(Graph graph) => VerifyGraph(graph, new HashSet<string>(), "graph");

    private static void VerifyGraph(Graph g, HashSet<string> outer, string where)
    {
        var defined = new HashSet<string>();
        // Messages are built only on failure: verification runs on every load and after passes.
        void Define(string name, Node? producer, string kind)
        {
            string What() => producer is null ? kind : $"output of node {producer.DisplayName}";
            if (name.Length == 0) throw new GraphException($"{where} '{g.Name}': {What()} has an empty name");
            if (!defined.Add(name)) throw new GraphException($"{where} '{g.Name}': value '{name}' is assigned more than once ({What()})");
        }
        foreach (var i in g.Inputs) Define(i.Name, null, "graph input");
        foreach (var name in g.Initializers.Keys)
            if (!defined.Contains(name)) Define(name, null, "initializer");

        foreach (var n in g.Nodes)
        {
            foreach (var input in n.Inputs)
                if (input.Length > 0 && !defined.Contains(input) && !outer.Contains(input))
                    throw new GraphException($"{where} '{g.Name}': node {n.DisplayName} uses '{input}', which no earlier node, input or initializer defines");
            if (n.Subgraphs.Any())
            {
                var scope = new HashSet<string>(outer);
                scope.UnionWith(defined);
                foreach (var sub in n.Subgraphs) VerifyGraph(sub, scope, $"subgraph of node {n.DisplayName}, graph");
            }
            foreach (var o in n.Outputs)
                if (o.Length > 0) Define(o, n, "");
        }
        foreach (var o in g.Outputs)
            if (!defined.Contains(o.Name) && !outer.Contains(o.Name))
                throw new GraphException($"{where} '{g.Name}': graph output '{o.Name}' is never defined");

        foreach (var o in g.Outputs)
            if (o.Type is TensorType declared && g.ValueTypes.TryGetValue(o.Name, out var inferred) && inferred is TensorType actual)
                CheckAgree(declared, actual, $"{where} '{g.Name}': output '{o.Name}'");
    }

    /// <summary>Declared and inferred tensor types agree when dtypes match and known ranks and known dims match.</summary>
    public static void CheckAgree(TensorType declared, TensorType inferred, string what)
    {
        if (declared.ElementType != DataType.Undefined && inferred.ElementType != DataType.Undefined && declared.ElementType != inferred.ElementType)
            throw new GraphException($"{what} is declared {declared.ElementType.Name()} but computed as {inferred.ElementType.Name()}");
        if (declared.Shape is null || inferred.Shape is null) return;
        if (declared.Shape.Rank != inferred.Shape.Rank)
            throw new GraphException($"{what} is declared with rank {declared.Shape.Rank} {declared.Shape} but computed with rank {inferred.Shape.Rank} {inferred.Shape}");
        for (int i = 0; i < declared.Shape.Rank; i++)
            if (declared.Shape[i].Value is { } a && inferred.Shape[i].Value is { } b && a != b)
                throw new GraphException($"{what} is declared {declared.Shape} but computed as {inferred.Shape}");
    }
}
