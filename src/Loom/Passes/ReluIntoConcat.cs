using Loom.Inference;
using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Graph pass (<c>Model → Model</c>): Relu(Concat(a, b, …)) = Concat(Relu(a), Relu(b), …), applied when the Concat's output
/// is read by the Relu alone and at least one input comes straight from a Conv that nothing else reads, so that
/// <see cref="FuseConvActivation"/>, which runs next, takes that Relu into the convolution's epilogue. ShuffleNet's
/// stride-2 units end so (Concat of an average pool and a convolution, then Relu): the Relu over the whole tensor becomes
/// a Relu over the pool's part only. float32 values with inferred types only.
/// </summary>
public static class ReluIntoConcat
{
    public static Model Run(Model model)
    {
        if (model.Graph.ValueTypes.IsEmpty) model = ShapeInference.Run(model);
        var graph = Rewrite(model.Graph);
        // The new Relu outputs need types for the passes after this one.
        return ReferenceEquals(graph, model.Graph) ? model : ShapeInference.Run(model.WithGraph(graph));
    }

    private static Graph Rewrite(Graph g)
    {
        g = g.WithNodes(g.Nodes.Select(n => n.WithSubgraphs(Rewrite)));
        var readers = new Dictionary<string, int>();
        foreach (var n in g.Nodes)
            foreach (var name in TopologicalSort.UsedNames(n).Distinct()) readers[name] = readers.GetValueOrDefault(name) + 1;
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        var producer = new Dictionary<string, Node>();
        foreach (var n in g.Nodes) foreach (var o in n.Outputs) if (o.Length > 0) producer[o] = n;
        var names = new HashSet<string>(g.Nodes.SelectMany(n => n.Outputs).Concat(g.Inputs.Select(i => i.Name)).Concat(g.Initializers.Keys));
        bool Alone(string value) => !outputs.Contains(value) && readers.GetValueOrDefault(value) == 1;
        var replaced = new Dictionary<Node, Node[]>(ReferenceEqualityComparer.Instance);
        var dropped = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        foreach (var relu in g.Nodes)
        {
            if (relu is not { Domain: "", OpType: "Relu" } || !Alone(relu.Inputs[0]) || !producer.TryGetValue(relu.Inputs[0], out var concat)
                || concat is not { Domain: "", OpType: "Concat" } || replaced.ContainsKey(concat)
                || g.TypeOf(relu.Outputs[0]) is not TensorType { ElementType: DataType.Float })
                continue;
            // Plain Conv only, not ConvOps.IsForward: FuseConvActivation takes a Relu into an ONNX Conv, not into a FusedConv.
            if (!concat.Inputs.Any(i => Alone(i) && producer.TryGetValue(i, out var p) && p is { Domain: "", OpType: "Conv" })) continue;
            var nodes = new List<Node>();
            var inputs = new Dictionary<string, string>();
            foreach (var input in concat.Inputs.Distinct())
            {
                string name = input + "__relu";
                for (int k = 1; !names.Add(name); k++) name = $"{input}__relu{k}";
                inputs[input] = name;
                nodes.Add(new Node("Relu", [input], [name], [], relu.Name.Length > 0 ? $"{relu.Name}/{input}" : "", ""));
            }
            nodes.Add(new Node("Concat", concat.Inputs.Select(i => inputs[i]), relu.Outputs, concat.Attributes, concat.Name, ""));
            replaced[concat] = [.. nodes];
            dropped.Add(relu);
        }
        if (replaced.Count == 0) return g;
        var result = g.Nodes.Where(n => !dropped.Contains(n)).SelectMany(n => replaced.TryGetValue(n, out var r) ? r : [n]);
        return new Graph(g.Name, g.Inputs, g.Outputs, result, g.Initializers, g.ValueTypes);
    }
}
