using Loom.Inference;
using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Graph pass (after <see cref="FuseConvActivation"/> and <see cref="FoldChannelShuffle"/>): a float32 2-D convolution — Conv, or
/// com.loom FusedConv with its bias and activation but no residual or pre-activation — whose output only a MaxPool reads (and
/// is not a graph output) becomes one <c>com.loom.FusedConvMaxPool(X, W, B)</c> with the convolution's attributes and the pool's
/// window as <c>pool_kernel_shape</c>, <c>pool_strides</c>, <c>pool_pads</c>. The kernel then computes the convolution's rows in
/// bands that stay in cache and writes only the pooled output (<c>ConvWideMaxPool</c>): the stems of SqueezeNet, AlexNet and
/// the like, whose first convolution's output (3 MB for SqueezeNet) only the first pool reads. Only the windows that kernel
/// covers are fused — 3×3, stride 2, no padding, no ceil_mode or dilation — as a fused node that ran the pair one after the
/// other would only add a scratch copy. The pool's Indices output must be unused. The node takes the pool's place and name
/// of output, so nothing downstream changes.
/// </summary>
public static class FuseConvMaxPool
{
    public static Model Run(Model model)
    {
        if (model.Graph.ValueTypes.IsEmpty) model = ShapeInference.Run(model);
        var graph = Fuse(model.Graph);
        if (ReferenceEquals(graph, model.Graph)) return model;
        var opsets = model.Opsets.Versions.SetItem(FuseConvActivation.Domain, 1);
        return new Model(graph, opsets, model.IrVersion, model.ProducerName, model.ProducerVersion, model.Domain, model.ModelVersion,
            model.DocString, model.Metadata);
    }

    private static Graph Fuse(Graph g)
    {
        g = g.WithNodes(g.Nodes.Select(n => n.WithSubgraphs(Fuse)));
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
            if (nodes[i] is not { Domain: "", OpType: "MaxPool" } pool || !Covered(pool) || pool.Outputs.Skip(1).Any(o => o.Length > 0)) continue;
            string value = pool.Inputs[0];
            if (outputs.Contains(value) || readers.GetValueOrDefault(value) != 1 || !producer.TryGetValue(value, out int ci)) continue;
            if (nodes[ci] is not { } conv || !Fusable(conv) || g.TypeOf(value) is not TensorType { ElementType: DataType.Float, Shape.Rank: 4 }) continue;
            var attributes = conv.Attributes.Concat(
            [
                IR.Attribute.Ints("pool_kernel_shape", [3, 3]), IR.Attribute.Ints("pool_strides", [2, 2]), IR.Attribute.Ints("pool_pads", [0, 0, 0, 0]),
            ]);
            nodes[i] = new Node("FusedConvMaxPool", conv.Inputs, [pool.Outputs[0]], attributes, conv.Name, FuseConvActivation.Domain);
            nodes[ci] = null;
            changed = true;
        }
        return changed ? new Graph(g.Name, g.Inputs, g.Outputs, nodes.OfType<Node>(), g.Initializers, g.ValueTypes) : g;
    }

    /// <summary>A convolution the fused kernel computes: no residual Z, no pre-activation (FusedConv inputs 3 to 5).</summary>
    private static bool Fusable(Node n) =>
        (n is { Domain: "", OpType: "Conv" } || n is { Domain: FuseConvActivation.Domain, OpType: "FusedConv" }) && n.Inputs.Length <= 3
        && n.Outputs.Length == 1;

    /// <summary>A 3×3 stride-2 max pool with no padding, dilation or ceil_mode: the windows the band kernel covers.</summary>
    private static bool Covered(Node pool) =>
        pool.GetString("auto_pad", "NOTSET") is "NOTSET" or "VALID" or "" && pool.GetInt("ceil_mode", 0) == 0
        && pool.GetInts("kernel_shape") is { } k && k.SequenceEqual([3L, 3L]) && pool.GetInts("strides") is { } s && s.SequenceEqual([2L, 2L])
        && (pool.GetInts("pads") is not { } p || p.All(v => v == 0)) && (pool.GetInts("dilations") is not { } d || d.All(v => v == 1));
}
