using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Removes nodes whose output equals their input: Identity; Dropout in inference mode (before opset 12
/// always; from 12 when training_mode is absent or a constant false) whose mask nobody reads; Cast and
/// CastLike to the input's own dtype; Transpose with the identity permutation; and Reshape, Flatten,
/// Squeeze and Expand whose inferred output shape equals the input's. Readers of the output then read
/// the input. When the output is a graph output, the node producing the input is renamed to it
/// instead (if that input is an ordinary node output of the same graph); otherwise the node stays.
///
/// Safe because each removed node passes its input through unchanged: the same values in the same
/// order, with the same dtype and (symbolically equal) shape.
/// </summary>
public static class NoOpElimination
{
    private static readonly HashSet<string> ShapeOnly = ["Reshape", "Flatten", "Squeeze", "Expand"];

    public static Model Run(Model model) => model.WithGraph(Eliminate(model.Graph, model.Opsets[""] ?? 0));

    public static Graph Eliminate(Graph g, int opset)
    {
        var index = new GraphIndex(g);
        var shadowed = ValueRenaming.DefinedInSubgraphs(g);
        var map = new Dictionary<string, string>();
        string Resolve(string name) { while (map.TryGetValue(name, out var next)) name = next; return name; }

        var nodes = new List<Node>(g.Nodes.Length);
        foreach (var original in g.Nodes)
        {
            var node = original.WithSubgraphs(s => Eliminate(s, opset));
            if (!IsNoOp(node, index, opset)) { nodes.Add(node); continue; }
            string x = Resolve(node.Inputs[0]), y = node.Outputs[0];
            if (!index.IsGraphOutput(y) && !shadowed.Contains(x)) map[y] = x;
            else if (index.ProducerIndex(x) >= 0 && !index.IsGraphOutput(x) && !shadowed.Contains(y)) map[x] = y;
            else nodes.Add(node);
        }
        if (map.Count == 0) return g.WithNodes(nodes);
        // Every mapped name disappears: it is either read as another value now or renamed to a graph output.
        return ValueRenaming.Apply(new Graph(g.Name, g.Inputs, g.Outputs, nodes, g.Initializers, g.ValueTypes.RemoveRange(map.Keys)), map);
    }

    private static bool IsNoOp(Node n, GraphIndex index, int opset)
    {
        if (n.Domain.Length > 0 || !n.HasInput(0) || !n.HasOutput(0)) return false;
        // Other outputs (Dropout's mask) must be unread, as they disappear with the node.
        for (int i = 1; i < n.Outputs.Length; i++)
            if (n.Outputs[i].Length > 0 && index.Uses(n.Outputs[i]) > 0) return false;
        var g = index.Graph;
        var input = g.TypeOf(n.Inputs[0]) as TensorType;
        var output = g.TypeOf(n.Outputs[0]) as TensorType;
        switch (n.OpType)
        {
            case "Identity":
                return true;
            case "Dropout":
                return opset < 12 || !n.HasInput(2)
                    || index.Constant(n.Inputs[2]) is { DataType: DataType.Bool, Length: 1 } t && !t.AsSpan<bool>()[0];
            case "Cast":
                // Before opset 6 'to' is a type name (a string); those Casts are left alone.
                return input is not null && n.GetAttribute("to") is { Kind: AttributeKind.Int } to && (DataType)to.AsInt() == input.ElementType;
            case "CastLike":
                return input is not null && n.HasInput(1) && g.TypeOf(n.Inputs[1]) is TensorType like && like.ElementType == input.ElementType;
            case "Transpose":
                if (input?.Rank is not { } rank) return false;
                return n.GetInts("perm") is { } perm ? perm.Select((p, i) => p == i).All(b => b) : rank <= 1;
            default:
                return ShapeOnly.Contains(n.OpType) && input?.Shape is { } before && output?.Shape is { } after
                    && input.ElementType == output.ElementType && before.Equals(after);
        }
    }
}
