using Loom.Inference;
using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Graph pass (<c>Model → Model</c>): ShuffleNet's channel shuffle feeding a depthwise convolution,
/// <code>
///   x[N,C,H,W] → Reshape [N,G,C/G,H,W] → Transpose perm [0,2,1,3,4] → Reshape [N,C,H,W] → Conv|FusedConv (group C)
/// </code>
/// becomes <c>com.loom.FusedConv(x, …)</c> with attribute <c>input_channels</c> = the shuffle as a channel map (input
/// channel j of the convolution is channel (j mod G)·C/G + j / G of x). A depthwise convolution reads each input plane on
/// its own, so the depthwise kernels read the mapped plane and the shuffle costs nothing: the transpose's pass over the
/// tensor (write and read again) is gone. Only when the two intermediate values have the one consumer in the chain and
/// are not graph outputs, and the inferred shapes show exactly this shuffle. Types must have been inferred (the pass runs
/// <see cref="ShapeInference"/> if not). Runs after <see cref="FuseConvActivation"/>, which may have made the Conv a
/// FusedConv already (its input scale and shift stay per input channel of the convolution).
/// </summary>
public static class FoldChannelShuffle
{
    public static Model Run(Model model) => LoomOperatorRewrite.Run(model, m => Fold(m.Graph));

    private static Graph Fold(Graph g)
    {
        g = g.WithNodes(g.Nodes.Select(n => n.WithSubgraphs(Fold)));
        var readers = new Dictionary<string, int>();
        foreach (var n in g.Nodes)
            foreach (var name in TopologicalSort.UsedNames(n).Distinct()) readers[name] = readers.GetValueOrDefault(name) + 1;
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        var producer = new Dictionary<string, int>();
        for (int i = 0; i < g.Nodes.Length; i++) foreach (var o in g.Nodes[i].Outputs) if (o.Length > 0) producer[o] = i;
        Node?[] nodes = [.. g.Nodes];
        bool changed = false;
        for (int i = 0; i < nodes.Length; i++)
        {
            if (nodes[i] is not { } conv || !ConvOps.IsForward(conv) || conv.GetInts("input_channels") is not null) continue;
            // Walk back: Reshape ← Transpose ← Reshape, each value read by the next node alone.
            if (Only(conv.Inputs[0], "Reshape") is not { } r2 || Only(nodes[r2]!.Inputs[0], "Transpose") is not { } t
                || Only(nodes[t]!.Inputs[0], "Reshape") is not { } r1)
                continue;
            string x = nodes[r1]!.Inputs[0];
            if (Shuffle(g, x, nodes[r1]!.Outputs[0], nodes[t]!, conv.Inputs[0]) is not { } map || conv.GetInt("group", 1) != map.Length) continue;
            var attributes = conv.Attributes.Append(IR.Attribute.Ints("input_channels", map.Select(v => (long)v)));
            nodes[i] = new Node(ConvOps.FusedConv, [x, .. conv.Inputs.Skip(1)], conv.Outputs, attributes, conv.Name, ConvOps.LoomDomain);
            nodes[r1] = nodes[t] = nodes[r2] = null;
            changed = true;
        }
        return changed ? new Graph(g.Name, g.Inputs, g.Outputs, nodes.OfType<Node>(), g.Initializers, g.ValueTypes) : g;

        // The live standard-domain node of type op producing value, when nothing else reads the value.
        int? Only(string value, string op) =>
            !outputs.Contains(value) && readers.GetValueOrDefault(value) == 1 && producer.TryGetValue(value, out var p)
            && nodes[p] is { Domain: "", OpType: var type } && type == op ? p : null;
    }

    /// <summary>
    /// The channel map when x [N,C,H,W] → [N,G,K,H,W] → perm [0,2,1,3,4] → [N,C,H,W] (inferred shapes), float32: output
    /// channel j = k·G + g is input channel g·K + k.
    /// </summary>
    private static int[]? Shuffle(Graph g, string x, string split, Node transpose, string merged)
    {
        if (g.TypeOf(x) is not TensorType { ElementType: DataType.Float, Shape: { Rank: 4 } sx }
            || g.TypeOf(split) is not TensorType { Shape: { Rank: 5 } s5 } || g.TypeOf(merged) is not TensorType { Shape: { } sm }
            || !sm.Equals(sx) || transpose.GetInts("perm") is not { } perm || !perm.SequenceEqual([0L, 2, 1, 3, 4]))
            return null;
        if (sx[1].Value is not { } c || s5[1].Value is not { } groups || s5[2].Value is not { } k || groups * k != c || c > int.MaxValue
            || !s5[0].Equals(sx[0]) || !s5[3].Equals(sx[2]) || !s5[4].Equals(sx[3]))
            return null;
        var map = new int[c];
        for (int j = 0; j < c; j++) map[j] = (int)(j % groups * k + j / groups);
        return map;
    }
}
