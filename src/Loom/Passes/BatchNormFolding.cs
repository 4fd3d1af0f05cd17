using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Folds an inference-mode BatchNormalization into the Conv, ConvTranspose, Gemm or MatMul+Add before it:
/// with <c>s = γ/√(var+ε)</c> per channel, the weights feeding channel c become <c>w·s[c]</c> and the bias
/// <c>b·s + (β − μ·s)</c>, i.e. <c>(b−μ)·s + β</c>; the layer then writes the BatchNormalization's output.
///
/// Safe because the result is the same affine map per channel, up to float rounding (computed in double,
/// rounded once). Only when the layer's output feeds nothing but the BatchNormalization (so no one sees
/// the unnormalized values), the weights, bias and all four BatchNormalization parameters are float
/// constants of one channel each, and the BatchNormalization is in inference mode (training_mode=0 from
/// opset 14; before, no output but Y; spatial).
/// </summary>
public static class BatchNormFolding
{
    public static Model Run(Model model) =>
        model.WithGraph(Fold(model.Graph, model.Opsets[""] ?? 0, new UniqueNames(model.Graph)));

    private static Graph Fold(Graph g, int opset, UniqueNames names)
    {
        g = g.WithNodes(g.Nodes.Select(n => n.WithSubgraphs(s => Fold(s, opset, names))));
        var index = new GraphIndex(g);
        var affine = new ChannelAffine(index, names);
        Node?[] nodes = [.. g.Nodes];
        for (int i = 0; i < nodes.Length; i++)
        {
            var bn = nodes[i]!;
            if (!bn.Is("BatchNormalization") || Parameters(bn, index, opset) is not var (s, t)) continue;
            int p = index.ProducerIndex(bn.Inputs[0]);
            if (p < 0 || !index.HasSingleConsumer(bn.Inputs[0]) || nodes[p] is not { } producer) continue;
            if (affine.Fold(producer, s, t, bn.Outputs[0]) is { } folded) nodes[p] = folded;
            else if (!FoldMatMulAdd(p, s, t, bn.Outputs[0], index, affine, nodes)) continue;
            nodes[i] = null;
            index.SetProducer(bn.Outputs[0], p);
        }
        if (affine.Added.Count == 0) return g;
        var inits = g.Initializers.SetItems(affine.Added);
        return new Graph(g.Name, g.Inputs, g.Outputs, nodes.OfType<Node>(), inits, g.ValueTypes);
    }

    /// <summary>Per-channel scale s = γ/√(var+ε) and shift β − μ·s, when the node is a foldable inference BatchNormalization.</summary>
    private static (double[] S, double[] T)? Parameters(Node bn, GraphIndex index, int opset)
    {
        if (bn.Outputs.Skip(1).Any(o => o.Length > 0) || bn.Inputs.Length != 5) return null;
        if (opset >= 14 ? bn.GetInt("training_mode", 0) != 0 : opset < 9 && bn.GetInt("spatial", 1) == 0) return null;
        if (index.Graph.TypeOf(bn.Inputs[0]) is not TensorType { ElementType: DataType.Float or DataType.Double, Rank: >= 2 }) return null;
        var p = bn.Inputs.Skip(1).Select(index.Constant).ToArray();
        if (p.Any(t => t is null || !ChannelAffine.IsFloat(t) || t.Rank != 1 || t.Length != p[0]!.Length)) return null;
        var (gamma, beta, mean, variance) = (ChannelAffine.ToDoubles(p[0]!), ChannelAffine.ToDoubles(p[1]!), ChannelAffine.ToDoubles(p[2]!), ChannelAffine.ToDoubles(p[3]!));
        double epsilon = bn.GetFloat("epsilon", 1e-5f);
        var s = new double[gamma.Length];
        var t = new double[gamma.Length];
        for (int c = 0; c < s.Length; c++)
        {
            s[c] = gamma[c] / Math.Sqrt(variance[c] + epsilon);
            t[c] = beta[c] - mean[c] * s[c];
        }
        return (s, t);
    }

    /// <summary>MatMul(x, W) → Add(·, b) → BatchNormalization on a rank-2 value: W's columns and b absorb the map.</summary>
    private static bool FoldMatMulAdd(int a, double[] s, double[] t, string output, GraphIndex index, ChannelAffine affine, Node?[] nodes)
    {
        if (nodes[a] is not { } add || !add.Is("Add") || add.Inputs.Length != 2) return false;
        for (int side = 0; side < 2; side++)
        {
            int m = index.ProducerIndex(add.Inputs[side]);
            if (m < 0 || !index.HasSingleConsumer(add.Inputs[side]) || nodes[m] is not { } matmul || !matmul.Is("MatMul")) continue;
            if (affine.Constant(add.Inputs[1 - side]) is not { } b || affine.Layout(matmul) is not { } layout || layout.Channels != s.Length) continue;
            var w = affine.Constant(matmul.Inputs[1])!;
            if (b.DataType != w.DataType || ChannelAffine.Bias(b, 1.0, s, t, w.DataType) is not { } newBias) continue;
            nodes[m] = matmul.WithInputs([matmul.Inputs[0], affine.Add(matmul.Inputs[1], ChannelAffine.ScaleWeights(w, layout, s))]);
            var inputs = add.Inputs.ToArray();
            inputs[1 - side] = affine.Add(add.Inputs[1 - side], newBias);
            nodes[a] = add.WithInputs(inputs).WithOutputs([output]);
            return true;
        }
        return false;
    }
}
