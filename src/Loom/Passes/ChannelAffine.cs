using System.Numerics;
using System.Text.RegularExpressions;
using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Folds a per-output-channel affine map <c>y = out·s[c] + t[c]</c> into the constant parameters of the
/// node producing <c>out</c>: the weights feeding channel c are multiplied by s[c] and the bias becomes
/// <c>bias·s + t</c> (for a BatchNormalization, its scale and bias), in double precision and rounded
/// once to the parameters' dtype. Weight layouts (output channels M): Conv W[M, C/g, k…];
/// ConvTranspose W[C, M/g, k…]; Gemm B[K, M] (B[M, K] with transB); MatMul W[K, M].
/// A Conv weight that is not an initializer but computed once from constants (built by ConstantOfShape,
/// too big to fold at load) is scaled by a new <c>Mul(W, s[M,1,…])</c> node instead, which the runtime
/// also computes once; so its BatchNormalization still folds, without materialising the weight at load.
/// </summary>
internal sealed partial class ChannelAffine(GraphIndex index, UniqueNames names, int opset)
{
    [GeneratedRegex("_folded[0-9]*$")]
    private static partial Regex FoldedSuffix();

    private readonly Dictionary<string, Tensor> _added = new();
    private readonly Dictionary<string, IrType> _addedTypes = new();
    private readonly Dictionary<Node, (double[] S, double[] T)?> _batchNormMaps = new(ReferenceEqualityComparer.Instance);

    /// <summary>Initializers created so far (the folded weights and biases).</summary>
    public IReadOnlyDictionary<string, Tensor> Added => _added;

    /// <summary>Types of the values computed by nodes the folds added (scaled weights).</summary>
    public IReadOnlyDictionary<string, IrType> AddedTypes => _addedTypes;

    /// <summary>A constant of the graph, including those created so far (a layer may absorb several maps in turn).</summary>
    public Tensor? Constant(string name) => _added.TryGetValue(name, out var t) ? t : index.Constant(name);

    /// <summary>
    /// How the weight (input 1) of a Conv, ConvTranspose, Gemm or rank-2 MatMul feeds its output channels,
    /// when it is a float or double constant; else null.
    /// </summary>
    public WeightLayout? Layout(Node producer)
    {
        // ONNX operators only, not ConvOps.IsConvolution: a fused convolution's activation comes after its bias, so a map
        // after it cannot move into W and B (the fusions run after this fold anyway).
        if (producer.Domain.Length > 0 || !producer.HasInput(1)) return null;
        if (Constant(producer.Inputs[1]) is not { Length: > 0 } w || !IsFloat(w)) return ComputedWeight(producer) is { } c ? new WeightLayout(1, c.Dims[0], (int)(ShapeMath.Size(c.Dims) / c.Dims[0]), 1) : null;
        var dims = w.Shape.ToArray();
        switch (producer.OpType)
        {
            case "Conv" when w.Rank >= 3:
                return new WeightLayout(1, dims[0], w.Length / Math.Max(1, dims[0]), 1);
            case "ConvTranspose" when w.Rank >= 3:
                long group = producer.GetInt("group", 1);
                if (group < 1 || dims[0] % group != 0) return null;
                return new WeightLayout(dims[0], dims[1], (int)ShapeMath.Size(dims.AsSpan(2)), dims[0] / (int)group);
            case "Gemm" when w.Rank == 2:
                return producer.GetInt("transB", 0) != 0 ? new WeightLayout(1, dims[0], dims[1], 1) : new WeightLayout(dims[0], dims[1], 1, dims[0]);
            case "MatMul" when w.Rank == 2 && index.Graph.TypeOf(producer.Outputs[0]) is TensorType { Rank: 2 }:
                return new WeightLayout(dims[0], dims[1], 1, dims[0]);
            default:
                return null;
        }
    }

    /// <summary>The dtype and dims of a float Conv weight computed once from constants (not an initializer), or null.</summary>
    private (DataType Type, int[] Dims)? ComputedWeight(Node conv) =>
        conv is { OpType: "Conv", Domain: "" } && index.IsComputedOnce(conv.Inputs[1])
        && index.Graph.TypeOf(conv.Inputs[1]) is TensorType { ElementType: DataType.Float or DataType.Double, Shape: { } shape } t
        && shape.ToKnown() is { Length: >= 3 } dims && dims[0] > 0 && ShapeMath.Size(dims) > 0
            ? (t.ElementType, dims)
            : null;

    /// <summary>The dtype of the weight (input 1) of a node <see cref="Layout"/> accepted.</summary>
    private DataType WeightType(Node producer) => Constant(producer.Inputs[1])?.DataType ?? ComputedWeight(producer)!.Value.Type;

    /// <summary>
    /// The number of output channels of a Conv, ConvTranspose, Gemm or BatchNormalization whose
    /// parameters can absorb a per-channel map (float constants, a bias of one value per channel or, for
    /// Gemm, a C that broadcasts against them), or null.
    /// </summary>
    public int? Channels(Node producer)
    {
        if (producer.Is("BatchNormalization")) return BatchNormMap(producer)?.S.Length;
        if (producer.Domain.Length > 0 || producer.OpType is not ("Conv" or "ConvTranspose" or "Gemm") || Layout(producer) is not { } layout) return null;
        if (!producer.HasInput(2)) return layout.Channels;
        if (Constant(producer.Inputs[2]) is not { } bias || bias.DataType != WeightType(producer)) return null;
        if (producer.OpType != "Gemm") return bias.Rank == 1 && bias.Length == layout.Channels ? layout.Channels : null;
        try { return ShapeMath.Broadcast(bias.Shape, [layout.Channels]).Length <= 2 ? layout.Channels : null; }
        catch (ShapeException) { return null; }
    }

    /// <summary>
    /// The producer (for which <see cref="Channels"/> gave s.Length) computing <c>out·s + t</c> under the
    /// name <paramref name="output"/>, with new parameter initializers; nodes the producer then needs
    /// before it (the Mul scaling a computed weight) are appended to <paramref name="before"/>.
    /// </summary>
    public Node Fold(Node producer, double[] s, double[] t, string output, List<Node> before)
    {
        var inputs = producer.Inputs.ToList();
        bool scales = s.Any(x => x != 1); // a pure shift leaves the weights as they are
        if (producer.Is("BatchNormalization"))
        {
            // γ(x−μ)/σ + β, scaled by s and shifted by t, is (sγ)(x−μ)/σ + (sβ + t).
            var (gamma, beta) = (Constant(inputs[1])!, Constant(inputs[2])!);
            if (scales) inputs[1] = Add(inputs[1], Bias(gamma, 1.0, s, new double[s.Length], gamma.DataType)!); // γ·s + 0
            inputs[2] = Add(inputs[2], Bias(beta, 1.0, s, t, beta.DataType)!);
            return producer.WithInputs(inputs).WithOutputs([output]);
        }
        var w = Constant(inputs[1]);
        var dataType = WeightType(producer);
        var bias = producer.HasInput(2) ? Constant(inputs[2]) : null;
        bool gemm = producer.OpType == "Gemm";
        var newBias = Bias(bias, gemm ? producer.GetFloat("beta", 1f) : 1.0, s, t, dataType)!;
        if (scales && w is not null) inputs[1] = Add(inputs[1], ScaleWeights(w, Layout(producer)!.Value, s));
        else if (scales) inputs[1] = ScaleComputed(inputs[1], ComputedWeight(producer)!.Value, s, before);
        var biasName = Add(bias is null ? producer.Inputs[1] + "_bias" : inputs[2], newBias);
        if (inputs.Count > 2) inputs[2] = biasName; else inputs.Add(biasName);
        var folded = producer.WithInputs(inputs).WithOutputs([output]);
        return gemm ? folded.WithAttributes(folded.Attributes.Where(a => a.Name != "beta")) : folded;
    }

    /// <summary>Mul(w, s[M,1,…,1]) under a new name: a computed weight with every element feeding channel m scaled by s[m].</summary>
    private string ScaleComputed(string weight, (DataType Type, int[] Dims) w, double[] s, List<Node> before)
    {
        var shape = new int[w.Dims.Length];
        Array.Fill(shape, 1);
        shape[0] = s.Length;
        var scale = Add(weight + "_scale", FromDoubles(s, w.Type, shape));
        var scaled = names.Derive(FoldedSuffix().Replace(weight, ""), "scaled");
        before.Add(new Node("Mul", [weight, scale], [scaled], [], scaled));
        _addedTypes[scaled] = new TensorType(w.Type, Shape.Of(w.Dims));
        return scaled;
    }

    /// <summary>
    /// An inference-mode BatchNormalization (training_mode=0 from opset 14; before, no output but Y; spatial)
    /// with float constant parameters of one channel each, as the map x·s + t: s = γ/√(var+ε), t = β − μ·s.
    /// </summary>
    public (double[] S, double[] T)? BatchNormMap(Node bn)
    {
        if (!_batchNormMaps.TryGetValue(bn, out var map)) _batchNormMaps[bn] = map = ComputeBatchNormMap(bn);
        return map;
    }

    private (double[] S, double[] T)? ComputeBatchNormMap(Node bn)
    {
        if (!bn.Is("BatchNormalization") || bn.Outputs.Skip(1).Any(o => o.Length > 0) || bn.Inputs.Length != 5) return null;
        if (opset >= 14 ? bn.GetInt("training_mode", 0) != 0 : opset < 9 && bn.GetInt("spatial", 1) == 0) return null;
        if (index.Graph.TypeOf(bn.Inputs[0]) is not TensorType { ElementType: DataType.Float or DataType.Double, Rank: >= 2 }) return null;
        if (Constant(bn.Inputs[1]) is not { Rank: 1 } gamma || Constant(bn.Inputs[2]) is not { } beta
            || Constant(bn.Inputs[3]) is not { } mean || Constant(bn.Inputs[4]) is not { } variance) return null;
        Tensor[] p = [gamma, beta, mean, variance];
        if (p.Any(x => !IsFloat(x) || x.Rank != 1 || x.Length != gamma.Length)) return null;
        double epsilon = bn.GetFloat("epsilon", 1e-5f);
        var s = new double[gamma.Length];
        var t = new double[gamma.Length];
        for (int c = 0; c < s.Length; c++)
        {
            s[c] = At(gamma, c) / Math.Sqrt(At(variance, c) + epsilon);
            t[c] = At(beta, c) - At(mean, c) * s[c];
        }
        return (s, t);
    }

    /// <summary>Adds an initializer named after <paramref name="baseName"/> (minus an earlier fold's suffix) and returns its name.</summary>
    public string Add(string baseName, Tensor value)
    {
        var name = names.Derive(FoldedSuffix().Replace(baseName, ""), "folded");
        _added[name] = value;
        return name;
    }

    public static bool IsFloat(Tensor t) => t.DataType is DataType.Float or DataType.Double;

    /// <summary>The weights with every element feeding channel c multiplied by s[c].</summary>
    public static Tensor ScaleWeights(Tensor w, WeightLayout layout, double[] s) => w.DataType == DataType.Double
        ? Tensor.FromArray(Scale(w.AsReadOnlySpan<double>(), layout, s), w.Shape)
        : Tensor.FromArray(Scale(w.AsReadOnlySpan<float>(), layout, s), w.Shape);

    private static T[] Scale<T>(ReadOnlySpan<T> w, WeightLayout layout, double[] s) where T : IFloatingPointIeee754<T>
    {
        var result = new T[w.Length];
        int i = 0;
        for (int o = 0; o < layout.Outer; o++)
            for (int c = layout.FirstChannel(o); c < layout.FirstChannel(o) + layout.Block; c++)
                for (int k = 0; k < layout.Inner; k++, i++)
                    result[i] = T.CreateTruncating(double.CreateTruncating(w[i]) * s[c]);
        return result;
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
        int cols = shape[^1], rows = shape.Length == 2 ? shape[0] : 1;
        int cRows = c.Rank == 2 ? c.Shape[0] : 1, cCols = c.Rank >= 1 ? c.Shape[^1] : 1;
        var result = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int m = 0; m < cols; m++)
                result[r * cols + m] = beta * At(c, (cRows == 1 ? 0 : r) * cCols + (cCols == 1 ? 0 : m)) * s[m] + t[m];
        return FromDoubles(result, dataType, shape);
    }

    /// <summary>Element <paramref name="i"/> of a float or double tensor.</summary>
    public static double At(Tensor t, int i) => t.DataType == DataType.Double ? t.AsReadOnlySpan<double>()[i] : t.AsReadOnlySpan<float>()[i];

    public static Tensor FromDoubles(double[] v, DataType dataType, ReadOnlySpan<int> shape) => dataType == DataType.Double
        ? Tensor.FromArray(v, shape)
        : Tensor.FromArray(Array.ConvertAll(v, x => (float)x), shape);
}

/// <summary>
/// A weight tensor seen as [Outer, Block, Inner] where element (o, b, k) feeds output channel
/// <c>FirstChannel(o) + b</c>: Conv W[M, C/g·k…] is [1, M, C/g·k…]; Gemm B[K, M] is [K, M, 1];
/// ConvTranspose W[C, M/g, k…] is [C, M/g, k…] where input channel o belongs to group o / (C/g).
/// </summary>
internal readonly record struct WeightLayout(int Outer, int Block, int Inner, int OuterPerGroup)
{
    public int Channels => Block * (Outer / OuterPerGroup);

    public int FirstChannel(int outer) => outer / OuterPerGroup * Block;
}
