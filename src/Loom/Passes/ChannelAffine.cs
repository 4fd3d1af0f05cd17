using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Folds a per-output-channel affine map <c>y = out·s[c] + t[c]</c> into the constant weights of the
/// layer producing <c>out</c>: the weights feeding channel c are multiplied by s[c] and the bias becomes
/// <c>bias·s + t</c>, in double precision and rounded once to the weights' dtype. Shared by BatchNorm
/// folding and Mul/Add folding. Layouts (output channels M):
/// Conv W[M, C/g, k…]; ConvTranspose W[C, M/g, k…]; Gemm B[K, M] (B[M, K] with transB); MatMul W[K, M].
/// </summary>
internal sealed class ChannelAffine(GraphIndex index, UniqueNames names)
{
    private readonly Dictionary<string, Tensor> _added = new();

    /// <summary>Initializers created so far (the folded weights and biases).</summary>
    public IReadOnlyDictionary<string, Tensor> Added => _added;

    /// <summary>
    /// The output-channel count of a Conv, ConvTranspose, Gemm or rank-2 MatMul whose weight (input 1) is
    /// a float or double constant, and a function giving the channel each weight element feeds; else null.
    /// </summary>
    public (int Channels, Func<int, int> ChannelOf)? Layout(Node producer)
    {
        if (producer.Domain.Length > 0 || !producer.HasInput(1) || index.Constant(producer.Inputs[1]) is not { } w || !IsFloat(w)) return null;
        var dims = w.Shape.ToArray();
        switch (producer.OpType)
        {
            case "Conv" when w.Rank >= 3:
            {
                int perChannel = w.Length / Math.Max(1, dims[0]);
                return (dims[0], i => i / perChannel);
            }
            case "ConvTranspose" when w.Rank >= 3:
            {
                long group = producer.GetInt("group", 1);
                if (group < 1 || dims[0] % group != 0) return null;
                int kernel = (int)ShapeMath.Size(dims.AsSpan(2)), perGroupOut = dims[1], perGroupIn = dims[0] / (int)group;
                return (perGroupOut * (int)group, i =>
                {
                    int ci = i / (perGroupOut * kernel), oc = i / kernel % perGroupOut;
                    return ci / perGroupIn * perGroupOut + oc;
                });
            }
            case "Gemm" when w.Rank == 2:
                return producer.GetInt("transB", 0) != 0 ? (dims[0], i => i / dims[1]) : (dims[1], i => i % dims[1]);
            case "MatMul" when w.Rank == 2 && index.Graph.TypeOf(producer.Outputs[0]) is TensorType { Rank: 2 }:
                return (dims[1], i => i % dims[1]);
            default:
                return null;
        }
    }

    /// <summary>
    /// A Conv, ConvTranspose or Gemm computing <c>out·s + t</c> under the name <paramref name="output"/>,
    /// with new weight and bias initializers; null when the producer or its bias does not fit.
    /// </summary>
    public Node? Fold(Node producer, double[] s, double[] t, string output)
    {
        if (producer.OpType is not ("Conv" or "ConvTranspose" or "Gemm") || Layout(producer) is not { } layout || layout.Channels != s.Length) return null;
        var w = index.Constant(producer.Inputs[1])!;
        Tensor? bias = null;
        if (producer.HasInput(2) && (bias = index.Constant(producer.Inputs[2])) is null) return null;
        bool gemm = producer.OpType == "Gemm";
        if (bias is not null && (bias.DataType != w.DataType || (gemm ? bias.Rank > 2 : bias.Rank != 1 || bias.Length != s.Length))) return null;
        var newBias = Bias(bias, gemm ? producer.GetFloat("beta", 1f) : 1.0, s, t, w.DataType);
        if (newBias is null) return null;

        var inputs = producer.Inputs.ToList();
        inputs[1] = Add(inputs[1], ScaleWeights(w, layout.ChannelOf, s));
        var biasName = Add(bias is null ? producer.Inputs[1] + "_bias" : inputs[2], newBias);
        if (inputs.Count > 2) inputs[2] = biasName; else inputs.Add(biasName);
        var folded = producer.WithInputs(inputs).WithOutputs([output]);
        return gemm ? folded.WithAttributes(folded.Attributes.Where(a => a.Name != "beta")) : folded;
    }

    /// <summary>Adds an initializer named after <paramref name="baseName"/> and returns its name.</summary>
    public string Add(string baseName, Tensor value)
    {
        var name = names.Derive(baseName, "folded");
        _added[name] = value;
        return name;
    }

    public static bool IsFloat(Tensor t) => t.DataType is DataType.Float or DataType.Double;

    public static Tensor ScaleWeights(Tensor w, Func<int, int> channelOf, double[] s)
    {
        var v = ToDoubles(w);
        for (int i = 0; i < v.Length; i++) v[i] *= s[channelOf(i)];
        return FromDoubles(v, w.DataType, w.Shape);
    }

    /// <summary>
    /// <c>beta·c·s + t</c> with <paramref name="c"/> broadcast against [M] (the channel is the last axis);
    /// just <c>t</c> when there is no <paramref name="c"/>; null when the shapes do not broadcast.
    /// </summary>
    public static Tensor? Bias(Tensor? c, double beta, double[] s, double[] t, DataType dataType)
    {
        if (c is null) return FromDoubles((double[])t.Clone(), dataType, [t.Length]);
        int[] shape;
        try { shape = ShapeMath.Broadcast(c.Shape, [s.Length]); }
        catch (ShapeException) { return null; }
        if (shape.Length > 2) return null;
        var cv = ToDoubles(c);
        int cols = shape[^1], rows = shape.Length == 2 ? shape[0] : 1;
        int cRows = c.Rank == 2 ? c.Shape[0] : 1, cCols = c.Rank >= 1 ? c.Shape[^1] : 1;
        var result = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int m = 0; m < cols; m++)
                result[r * cols + m] = beta * cv[(cRows == 1 ? 0 : r) * cCols + (cCols == 1 ? 0 : m)] * s[m] + t[m];
        return FromDoubles(result, dataType, shape);
    }

    public static double[] ToDoubles(Tensor t) => t.DataType switch
    {
        DataType.Float => Array.ConvertAll(t.ToArray<float>(), x => (double)x),
        DataType.Double => t.ToArray<double>(),
        _ => throw new UnsupportedException($"cannot fold {t.DataType.Name()} weights"),
    };

    public static Tensor FromDoubles(double[] v, DataType dataType, ReadOnlySpan<int> shape) => dataType == DataType.Double
        ? Tensor.FromArray(v, shape)
        : Tensor.FromArray(Array.ConvertAll(v, x => (float)x), shape);
}
