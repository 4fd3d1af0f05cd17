using Loom.IR;
using Attribute = Loom.IR.Attribute;

namespace Loom.Scheduling;

/// <summary>
/// The small models <see cref="MachineProbes"/> times: chains of identical convolutions, pools or Relus
/// for each <see cref="KernelClass"/> (sizes chosen so the cases differ in FLOPs, packed bytes and
/// fixed cost), and single operators on a mid-sized activation.
/// </summary>
internal static class ProbeModels
{
    public sealed record Probe(Model Model);

    private const int OpChannels = 64, OpSize = 20;

    /// <summary>The cases of a class; the first two (small, then large) also serve the timing with all threads.</summary>
    public static IReadOnlyList<Probe> ClassCases(KernelClass cls) => cls switch
    {
        KernelClass.Gemm => [Conv(32, 14, 1, 1, 4), Conv(128, 28, 1, 1, 1), Conv(512, 7, 1, 1, 1)],
        // Spatial convolutions off the Winograd path: strided 3×3 (ResNet's and the stems' downsampling; small, then a quarter of
        // ResNet-50's), 3×3 on few positions, a 7×7 on the implicit GEMM and a strided 1×1 projection. While the Winograd layers
        // were probed here too, their poor two-thread split (1.35–1.5× on small planes) was charged to every strided layer,
        // which splits 1.9× (ResNet-50, idle): schedules ran its downsampling branches side by side instead of splitting each layer.
        KernelClass.Conv => [Conv(32, 28, 3, 1, 1, stride: 2), Conv(64, 56, 3, 1, 1, stride: 2), Conv(256, 7, 3, 1, 1), Conv(16, 28, 7, 1, 1),
            Conv(256, 28, 1, 1, 1, stride: 2, outChannels: 512)],
        // 3×3 stride-1 layers on the Winograd paths, measured rather than assumed to run their multiply-adds as fast as the other
        // paths: small then large (the two the all-thread timing is fitted to), then one more shape of the models'. F(2×2): a small
        // plane of few channels, ResNet's 14×14 layers, DenseNet's growth layers (32 outputs); F(4×4): SqueezeNet's first expand
        // layer, ResNet's first 3×3 layer, its 28×28 ones.
        KernelClass.Winograd => [Conv(32, 14, 3, 1, 4), Conv(256, 14, 3, 1, 1), Conv(128, 28, 3, 1, 1, outChannels: 32)],
        KernelClass.Winograd4 => [Conv(16, 56, 3, 1, 1, outChannels: 64), Conv(64, 56, 3, 1, 1), Conv(128, 28, 3, 1, 1)],
        KernelClass.GroupedConv => [Conv(32, 14, 3, 32, 4), Conv(128, 28, 3, 128, 1), Conv(512, 7, 3, 512, 1)],
        KernelClass.Pool => [Chain(16, 14, 4, MaxPool), Chain(64, 28, 1, MaxPool)],
        _ => [Chain(16, 8, 8, (x, y) => new Node("Relu", [x], [y])), Chain(64, 56, 2, (x, y) => new Node("Relu", [x], [y]))],
    };

    /// <summary>One node per operator that models use often and whose cost per byte is its own.</summary>
    public static IEnumerable<Probe> OperatorCases()
    {
        foreach (var op in new[] { "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Erf", "LeakyRelu" })
            yield return Op(new Node(op, ["x"], ["y"]));
        foreach (var op in new[] { "Add", "Mul", "Sub", "Div", "Sum" })
            yield return Op(new Node(op, ["x", "x"], ["y"]));
        yield return Op(new Node("Concat", ["x", "x"], ["y"], [Attribute.Int("axis", 1)]));
        yield return Op(new Node("Softmax", ["x"], ["y"], [Attribute.Int("axis", 1)]));
        yield return Op(new Node("Transpose", ["x"], ["y"], [Attribute.Ints("perm", [0, 2, 3, 1])]));
        yield return Op(new Node("GlobalAveragePool", ["x"], ["y"]));
        yield return Op(new Node("AveragePool", ["x"], ["y"], [Attribute.Ints("kernel_shape", [3, 3]), Attribute.Ints("pads", [1, 1, 1, 1])]));
        yield return Op(new Node("LRN", ["x"], ["y"], [Attribute.Int("size", 5)]));
        yield return Op(new Node("Clip", ["x", "lo", "hi"], ["y"]), ("lo", Tensor.Scalar(0f)), ("hi", Tensor.Scalar(6f)));
        yield return Op(new Node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"]),
            ("s", Vector(1f)), ("b", Vector(0f)), ("m", Vector(0.5f)), ("v", Vector(2f)));
        yield return Op(new Node("Resize", ["x", "", "scales"], ["y"]), ("scales", Tensor.FromArray(new float[] { 1, 1, 2, 2 }, 4)));
    }

    /// <summary>The values x[i] = ((i mod 17) − 8) / 100: small, of both signs, never all equal.</summary>
    public static Tensor Input(ValueMetadata x)
    {
        var shape = x.Shape!.Dims.Select(d => (int)d.Value!.Value).ToArray();
        return Tensor.FromArray(Fill((int)ShapeMath.Size(shape)), shape);
    }

    private static Tensor Vector(float value) => Tensor.FromArray(Enumerable.Repeat(value, OpChannels).ToArray(), OpChannels);

    private static Node MaxPool(string x, string y) =>
        new("MaxPool", [x], [y], [Attribute.Ints("kernel_shape", [3, 3]), Attribute.Ints("pads", [1, 1, 1, 1])]);

    private static Probe Conv(int channels, int size, int kernel, int group, int chain, int stride = 1, int? outChannels = null)
    {
        var inits = new Dictionary<string, Tensor>();
        int outputs = outChannels ?? channels, perGroup = channels / group;
        long pad = kernel / 2;
        if ((stride != 1 || outputs != channels) && chain != 1) throw new ArgumentException("a chain needs layers that keep the shape", nameof(chain));
        return Chain(channels, size, chain, (x, y) =>
        {
            var w = $"w_{y}";
            inits[w] = Tensor.FromArray(Fill(outputs * perGroup * kernel * kernel), outputs, perGroup, kernel, kernel);
            return new Node("Conv", [x, w], [y], [Attribute.Ints("pads", [pad, pad, pad, pad]), Attribute.Int("group", group),
                Attribute.Ints("strides", [stride, stride])]);
        }, inits);
    }

    private static Probe Chain(int channels, int size, int length, Func<string, string, Node> make, Dictionary<string, Tensor>? inits = null)
    {
        var nodes = new List<Node>();
        for (int i = 0; i < length; i++) nodes.Add(make(i == 0 ? "x" : $"h{i - 1}", i == length - 1 ? "y" : $"h{i}"));
        var type = new TensorType(DataType.Float, Shape.Of(1, channels, size, size));
        return Wrap(new Graph("probe", [new ValueInfo("x", type)], [new ValueInfo("y", null)], nodes, inits ?? new()));
    }

    private static Probe Op(Node node, params (string Name, Tensor Value)[] constants)
    {
        var type = new TensorType(DataType.Float, Shape.Of(1, OpChannels, OpSize, OpSize));
        var inits = constants.ToDictionary(c => c.Name, c => c.Value);
        return Wrap(new Graph("probe", [new ValueInfo("x", type)], [new ValueInfo("y", null)], [node], inits));
    }

    private static Probe Wrap(Graph g) => new(new Model(g, new Dictionary<string, int> { [""] = 17 }));

    private static float[] Fill(int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (i % 17 - 8) * 0.01f;
        return a;
    }
}
