using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Folds per-channel affine maps into the node before them. The maps: an inference-mode
/// BatchNormalization (<c>s = γ/√(var+ε)</c>, <c>t = β − μ·s</c>), and Mul, Add or Sub (<c>x − k</c>) by a
/// float constant k holding one value per channel (shape [M,1,…,1], [1,M,1,…,1], [1] or a scalar — never
/// more dims than the value, so broadcasting does not change its shape). The nodes absorbing them: Conv,
/// ConvTranspose and Gemm (weights feeding channel c times s[c], bias <c>b·s + t</c> — for a
/// BatchNormalization <c>(b−μ)·s + β</c>), a BatchNormalization (scale <c>γ·s</c>, bias <c>β·s + t</c>),
/// and for a BatchNormalization on a rank-2 value also MatMul followed by Add of a constant. The
/// absorbing node then writes the map's output. One sweep folds whole chains (Conv → BatchNormalization
/// → Mul → Add): the maps are composed in double and the parameters rewritten once.
///
/// Safe because a per-channel scale and shift of a layer's output is exactly a scale of the parameters
/// feeding that channel and a shift of its bias (up to float rounding: computed in double, rounded once).
/// A Conv weight computed once from constants (ConstantOfShape-built) is scaled by a new Mul node
/// (see <see cref="ChannelAffine"/>). Only when the intermediate value feeds nothing else (no one sees it unmapped), all parameters are float
/// constants, and, for Mul, k is finite.
/// </summary>
public static class AffineFolding
{
    public static Model Run(Model model) =>
        model.WithGraph(Fold(model.Graph, model.Opsets[""] ?? 0, new UniqueNames(model.Graph)));

    private static Graph Fold(Graph g, int opset, UniqueNames names)
    {
        g = g.WithNodes(g.Nodes.Select(n => n.WithSubgraphs(s => Fold(s, opset, names))));
        var index = new GraphIndex(g);
        var affine = new ChannelAffine(index, names, opset);
        Node?[] nodes = [.. g.Nodes];
        // The maps each absorbing node takes on, composed along chains, and the name it then writes;
        // its parameters are rewritten once, at the end.
        var maps = new Dictionary<int, (double[] S, double[] T, string Output)>();
        for (int i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i]!;
            var (p, s, t) = node.Is("BatchNormalization") ? MatchBatchNorm(node, index, affine, nodes) : MatchMulAdd(node, index, affine, nodes);
            if (p < 0) continue;
            if (s is not null) maps[p] = maps.TryGetValue(p, out var first) ? Then(first, s, t!, node.Outputs[0]) : (s, t!, node.Outputs[0]);
            nodes[i] = null;
            index.SetProducer(node.Outputs[0], p);
        }
        var before = new Dictionary<int, List<Node>>();
        foreach (var (p, m) in maps) nodes[p] = affine.Fold(nodes[p]!, m.S, m.T, m.Output, before[p] = new List<Node>());
        if (affine.Added.Count == 0) return g;
        var ordered = nodes.SelectMany((n, i) => before.TryGetValue(i, out var b) ? b.Append(n) : [n]).OfType<Node>();
        return new Graph(g.Name, g.Inputs, g.Outputs, ordered, g.Initializers.SetItems(affine.Added), g.ValueTypes.SetItems(affine.AddedTypes));
    }

    /// <summary>A map followed by another: (x·s1 + t1)·s2 + t2 = x·(s1·s2) + (t1·s2 + t2), per channel.</summary>
    private static (double[] S, double[] T, string Output) Then((double[] S, double[] T, string) first, double[] s, double[] t, string output)
    {
        var (s2, t2) = (new double[s.Length], new double[s.Length]);
        for (int c = 0; c < s.Length; c++) (s2[c], t2[c]) = (first.S[c] * s[c], first.T[c] * s[c] + t[c]);
        return (s2, t2, output);
    }

    /// <summary>
    /// The producer a BatchNormalization folds into and its map (s, t); or, when a MatMul and Add absorbed
    /// it on the spot, their index and no map; or -1.
    /// </summary>
    private static (int, double[]?, double[]?) MatchBatchNorm(Node bn, GraphIndex index, ChannelAffine affine, Node?[] nodes)
    {
        // Find a producer that can absorb the map before computing it: most BatchNorms in DenseNet-like
        // graphs follow a Concat and fold nowhere.
        if (SoleProducer(bn.Inputs[0], index, nodes) is not { } p) return (-1, null, null);
        var channels = affine.Channels(nodes[p]!);
        if (channels is null && !nodes[p]!.Is("Add")) return (-1, null, null);
        if (affine.BatchNormMap(bn) is not var (s, t)) return (-1, null, null);
        if (channels == s.Length) return (p, s, t);
        return FoldMatMulAdd(p, s, t, bn.Outputs[0], index, affine, nodes) ? (p, null, null) : (-1, null, null);
    }

    /// <summary>Mul(x, k), Mul(k, x), Add(x, k), Add(k, x) or Sub(x, k): the producer of x and the map, or -1.</summary>
    private static (int, double[]?, double[]?) MatchMulAdd(Node op, GraphIndex index, ChannelAffine affine, Node?[] nodes)
    {
        if (op.Domain.Length > 0 || op.OpType is not ("Mul" or "Add" or "Sub") || op.Inputs.Length != 2) return (-1, null, null);
        for (int side = 0; side < (op.OpType == "Sub" ? 1 : 2); side++)
        {
            if (SoleProducer(op.Inputs[side], index, nodes) is not { } p || affine.Channels(nodes[p]!) is not { } channels) continue;
            if (index.Constant(op.Inputs[1 - side]) is not { } k || index.Graph.TypeOf(op.Inputs[side]) is not TensorType { Rank: { } rank } x
                || x.ElementType != k.DataType || !ChannelAffine.IsFloat(k) || PerChannel(k, channels, rank) is not { } v) continue;
            if (op.OpType == "Mul" && !v.All(double.IsFinite)) continue;
            if (op.OpType == "Mul") return (p, v, new double[v.Length]);
            var ones = new double[v.Length];
            Array.Fill(ones, 1.0);
            if (op.OpType == "Sub") for (int c = 0; c < v.Length; c++) v[c] = -v[c];
            return (p, ones, v);
        }
        return (-1, null, null);
    }

    /// <summary>MatMul(x, W) → Add(·, b) → BatchNormalization on a rank-2 value: W's columns and b absorb the map.</summary>
    private static bool FoldMatMulAdd(int a, double[] s, double[] t, string output, GraphIndex index, ChannelAffine affine, Node?[] nodes)
    {
        var add = nodes[a]!;
        if (!add.Is("Add") || add.Inputs.Length != 2) return false;
        for (int side = 0; side < 2; side++)
        {
            if (SoleProducer(add.Inputs[side], index, nodes) is not { } m || nodes[m] is not { } matmul || !matmul.Is("MatMul")) continue;
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

    /// <summary>The index of the node producing <paramref name="value"/> when that node is its only reader's source and nothing else reads it.</summary>
    private static int? SoleProducer(string value, GraphIndex index, Node?[] nodes) =>
        index.ProducerIndex(value) is var p and >= 0 && index.HasSingleConsumer(value) && nodes[p] is not null ? p : null;

    /// <summary>
    /// The value of <paramref name="k"/> for each of <paramref name="channels"/> channels of a value of rank
    /// <paramref name="rank"/> (channel axis 1), or null if k varies along another axis or would add dims.
    /// </summary>
    private static double[]? PerChannel(Tensor k, int channels, int rank)
    {
        if (k.Rank > rank || rank < 2) return null;
        int channelAxis = 1 - (rank - k.Rank); // k's axis aligned with axis 1 of the value, broadcasting from the right
        for (int a = 0; a < k.Rank; a++)
            if (k.Shape[a] != 1 && !(a == channelAxis && k.Shape[a] == channels)) return null;
        var values = new double[channels];
        for (int c = 0; c < channels; c++) values[c] = ChannelAffine.At(k, k.Length == 1 ? 0 : c);
        return values;
    }
}
