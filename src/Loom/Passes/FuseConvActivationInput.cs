using Loom.IR;

namespace Loom.Passes;

/// <summary>The pre-activation half of <see cref="FuseConvActivation"/>: BN → Mul → Add → Relu chains before a Conv.</summary>
public static partial class FuseConvActivation
{
    /// <summary>The chain's first input, its nodes, and the composed per-channel map relu?(x·Scale + Shift).</summary>
    private sealed record Affine(string Source, List<int> Nodes, float[] Scale, float[] Shift, bool Relu);

    /// <summary>Walks back from the Conv's input over single-consumer Relu, Add, Mul and BatchNormalization nodes, in that order.</summary>
    private static Affine? InputAffine(Node conv, int convIndex, Chain chain, Node?[] nodes, Dictionary<string, int> producer)
    {
        if (chain.Graph.TypeOf(conv.Inputs[0]) is not TensorType { ElementType: DataType.Float, Shape: { Rank: >= 3 } shape }
            || shape[1].Value is not { } channels || channels <= 0)
            return null;
        int c = (int)channels, rank = shape.Rank;
        var steps = new List<(Node Node, int Index, double[]? Operand)>();
        string value = conv.Inputs[0];
        int reader = convIndex, next = 0;
        // Going backwards the order is Relu, Add, Mul, BatchNormalization, each at most once.
        string[] order = ["Relu", "Add", "Mul", "BatchNormalization"];
        while (next < order.Length && chain.Single(value, nodes) == reader && producer.TryGetValue(value, out var pi)
            && nodes[pi] is { Domain: "" } n && Array.IndexOf(order, n.OpType, next) is var at && at >= 0)
        {
            string input = n.Inputs[0];
            double[]? operand = null;
            if (n.OpType is "Add" or "Mul")
            {
                if (n.Inputs.Length != 2) break;
                if (chain.PerChannel(n.Inputs[1], c, rank) is { } v1) operand = v1;
                else if (chain.PerChannel(n.Inputs[0], c, rank) is { } v0) (operand, input) = (v0, n.Inputs[1]);
                else break;
            }
            else if (n.OpType == "BatchNormalization" && chain.BatchNorm(n, c) is null) break;
            steps.Add((n, pi, operand));
            next = at + 1;
            reader = pi;
            value = input;
        }
        if (steps.Count == 0) return null;
        var scale = Enumerable.Repeat(1.0, c).ToArray();
        var shift = new double[c];
        bool relu = false;
        // Compose in graph order (the reverse of the walk), in double, rounded once.
        for (int s = steps.Count - 1; s >= 0; s--)
        {
            var (n, _, operand) = steps[s];
            switch (n.OpType)
            {
                case "BatchNormalization":
                    var (bs, bt) = chain.BatchNorm(n, c)!.Value;
                    for (int k = 0; k < c; k++) (scale[k], shift[k]) = (bs[k], bt[k]);
                    break;
                case "Mul":
                    for (int k = 0; k < c; k++) { scale[k] *= operand![k]; shift[k] *= operand[k]; }
                    break;
                case "Add":
                    for (int k = 0; k < c; k++) shift[k] += operand![k];
                    break;
                default:
                    relu = true;
                    break;
            }
        }
        return new Affine(value, steps.Select(x => x.Index).ToList(), scale.Select(x => (float)x).ToArray(), shift.Select(x => (float)x).ToArray(), relu);
    }

    private static string AddConstant(Dictionary<string, Tensor> inits, string name, float[] values)
    {
        string unique = name;
        for (int k = 1; inits.ContainsKey(unique); k++) unique = $"{name}{k}";
        inits[unique] = Tensor.FromArray(values, values.Length);
        return unique;
    }
}
