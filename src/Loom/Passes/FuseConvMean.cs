using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Graph pass (<c>Model → Model</c>; runs after <see cref="FuseConvActivation"/>, which has already taken a Relu into the
/// convolution). It rewrites a float32 1×1 convolution (stride 1, no padding, one group, no residual or input transform, no
/// activation or Relu; the weights' inferred shape says 1×1, whether stored or computed) whose only reader is a
/// GlobalAveragePool
/// <code>
///   Conv | FusedConv(activation Relu) → GlobalAveragePool
/// </code>
/// into one <c>com.loom.FusedConv</c> with attribute <c>spatial_mean = 1</c> that writes the pool's output [N, M, 1, 1]: the
/// mean over positions of activation(Conv(X, W) + B). The convolution's [N, M, H, W] output is then never written and read back
/// (SqueezeNet's classifier: 1000 × 13 × 13 floats). Rounding differs from the two nodes (the sums are taken in another order).
/// </summary>
public static class FuseConvMean
{
    public const string Attribute = "spatial_mean";

    public static Model Run(Model model) => LoomOperatorRewrite.Run(model, m => Fuse(m.Graph));

    private static Graph Fuse(Graph g)
    {
        g = g.WithNodes(g.Nodes.Select(n => n.WithSubgraphs(Fuse)));
        var index = new GraphIndex(g);
        Node?[] nodes = [.. g.Nodes];
        bool changed = false;
        for (int p = 0; p < nodes.Length; p++)
        {
            if (nodes[p] is not { Domain: "", OpType: "GlobalAveragePool" } pool || pool.Inputs.Length == 0) continue;
            string y = pool.Inputs[0];
            int i = index.ProducerIndex(y);
            if (i < 0 || !index.HasSingleConsumer(y) || nodes[i] is not { } conv || conv.Outputs[0] != y || !Fusable(g, conv)) continue;
            var attributes = conv.Attributes.Append(IR.Attribute.Int(Attribute, 1));
            nodes[p] = new Node(ConvOps.FusedConv, conv.Inputs, [pool.Outputs[0]], attributes, conv.Name, ConvOps.LoomDomain);
            nodes[i] = null;
            changed = true;
        }
        return changed ? new Graph(g.Name, g.Inputs, g.Outputs, nodes.OfType<Node>(), g.Initializers, g.ValueTypes) : g;
    }

    /// <summary>What the fused kernel computes: a plain 1×1 product over [N, C, H, W] with a bias and a Relu at most.</summary>
    private static bool Fusable(Graph g, Node conv)
    {
        if (!ConvOps.IsForward(conv) || conv.Inputs.Length is < 2 or > 3 || conv.HasAttribute(Attribute)) return false;
        if (conv.Domain == ConvOps.LoomDomain && (conv.HasAttribute("input_channels") || conv.HasAttribute("input_activation")
            || conv.GetString("activation", "") is not ("" or "Relu") || conv.HasAttribute("activation_params")))
            return false;
        if (conv.GetInt("group", 1) != 1 || conv.GetString("auto_pad", "NOTSET") is not ("NOTSET" or "VALID")) return false;
        if (conv.GetInts("strides") is { } s && s.Any(v => v != 1) || conv.GetInts("pads") is { } pads && pads.Any(v => v != 0)) return false;
        // The weights may be computed (ConstantOfShape-built in test models): their inferred shape must say 1×1.
        return g.TypeOf(conv.Inputs[1]) is TensorType { ElementType: DataType.Float, Shape: { Rank: 4 } w }
            && w[2].Equals(Dim.One) && w[3].Equals(Dim.One)
            && g.TypeOf(conv.Inputs[0]) is TensorType { ElementType: DataType.Float, Shape: { Rank: 4 } };
    }
}
