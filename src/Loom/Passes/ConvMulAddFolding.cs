using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Folds <c>Mul(conv, k)</c>, <c>Add(conv, k)</c> (either operand order) and <c>Sub(conv, k)</c> into the
/// Conv or ConvTranspose producing <c>conv</c>, when <c>k</c> is a float constant holding one value per
/// output channel (shape [M,1,…,1], [1,M,1,…,1], [1] or a scalar — never more dims than the output, so
/// broadcasting does not change the output's shape): Mul scales the channel's weights and bias by k[c],
/// Add and Sub shift its bias by ±k[c].
///
/// Safe because a per-channel scale or shift of a convolution's output is exactly a scale of the
/// weights and bias feeding that channel (up to float rounding). Only when the convolution's output
/// feeds nothing else, its weights and bias are constants, and (for Mul) k is finite.
/// </summary>
public static class ConvMulAddFolding
{
    public static Model Run(Model model) => model.WithGraph(Fold(model.Graph, new UniqueNames(model.Graph)));

    private static Graph Fold(Graph g, UniqueNames names)
    {
        g = g.WithNodes(g.Nodes.Select(n => n.WithSubgraphs(s => Fold(s, names))));
        var index = new GraphIndex(g);
        var affine = new ChannelAffine(index, names);
        Node?[] nodes = [.. g.Nodes];
        for (int i = 0; i < nodes.Length; i++)
        {
            var op = nodes[i]!;
            if (op.Domain.Length > 0 || op.OpType is not ("Mul" or "Add" or "Sub") || op.Inputs.Length != 2) continue;
            for (int side = 0; side < (op.OpType == "Sub" ? 1 : 2); side++)
            {
                int p = index.ProducerIndex(op.Inputs[side]);
                if (p < 0 || !index.HasSingleConsumer(op.Inputs[side]) || nodes[p] is not { OpType: "Conv" or "ConvTranspose" } conv) continue;
                if (index.Constant(op.Inputs[1 - side]) is not { } k || affine.Layout(conv) is not { } layout) continue;
                var w = affine.Constant(conv.Inputs[1])!;
                if (k.DataType != w.DataType || PerChannel(k, layout.Channels, w.Rank) is not { } v) continue;
                var (s, t) = op.OpType switch
                {
                    "Mul" => (v, new double[v.Length]),
                    "Add" => (Ones(v.Length), v),
                    _ => (Ones(v.Length), v.Select(x => -x).ToArray()),
                };
                if (op.OpType == "Mul" && !v.All(double.IsFinite)) continue;
                if (affine.Fold(conv, s, t, op.Outputs[0]) is not { } folded) continue;
                nodes[p] = folded;
                nodes[i] = null;
                index.SetProducer(op.Outputs[0], p);
                break;
            }
        }
        if (affine.Added.Count == 0) return g;
        return new Graph(g.Name, g.Inputs, g.Outputs, nodes.OfType<Node>(), g.Initializers.SetItems(affine.Added), g.ValueTypes);
    }

    /// <summary>
    /// The value of <paramref name="k"/> for each of <paramref name="channels"/> channels of an output of rank
    /// <paramref name="rank"/> (channel axis 1), or null if k varies along another axis or would add dims.
    /// </summary>
    private static double[]? PerChannel(Tensor k, int channels, int rank)
    {
        if (k.Rank > rank) return null;
        int channelAxis = 1 - (rank - k.Rank); // k's axis aligned with the output's axis 1, after right-alignment
        for (int a = 0; a < k.Rank; a++)
            if (k.Shape[a] != 1 && !(a == channelAxis && k.Shape[a] == channels)) return null;
        var values = ChannelAffine.ToDoubles(k);
        return values.Length == 1 ? Enumerable.Repeat(values[0], channels).ToArray() : values;
    }

    private static double[] Ones(int n) => Enumerable.Repeat(1.0, n).ToArray();
}
