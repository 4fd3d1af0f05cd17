using Loom.IR;
using Attribute = Loom.IR.Attribute;

namespace Loom.Workload;

/// <summary>
/// Builds the small float32 networks <see cref="KernelPathProbes"/> times: convolutions, pools, concatenations,
/// normalizations and products on one image, each layer feeding the next, with deterministic weights.
/// </summary>
internal sealed class ProbeNet(int channels, int size)
{
    private readonly List<Node> _nodes = new();
    private readonly Dictionary<string, Tensor> _inits = new();
    private readonly Dictionary<string, int[]> _shapes = new() { ["x"] = [1, channels, size, size] };
    private int _next;

    public string Input => "x";

    public int[] ShapeOf(string v) => _shapes[v];

    public string Conv(string x, int outChannels, int kernel, int stride = 1, int group = 1)
    {
        var s = _shapes[x];
        int pad = kernel / 2, o = (s[2] + 2 * pad - kernel) / stride + 1;
        var w = Const([outChannels, s[1] / group, kernel, kernel]);
        var b = Const([outChannels]);
        return Add(new Node("Conv", [x, w, b], [Fresh()], [Attribute.Ints("pads", [pad, pad, pad, pad]), Attribute.Ints("strides", [stride, stride]),
            Attribute.Int("group", group)]), [1, outChannels, o, o]);
    }

    public string Relu(string x) => Add(new Node("Relu", [x], [Fresh()]), _shapes[x]);

    public string BatchNorm(string x)
    {
        int c = _shapes[x][1];
        return Add(new Node("BatchNormalization", [x, Const([c], 1f), Const([c]), Const([c]), Const([c], 1f)], [Fresh()]), _shapes[x]);
    }

    public string Sum(string a, string b) => Add(new Node("Sum", [a, b], [Fresh()]), _shapes[a]);

    public string Pool(string op, string x, int kernel, int stride, int pad = 0)
    {
        var s = _shapes[x];
        int o = (s[2] + 2 * pad - kernel) / stride + 1;
        return Add(new Node(op, [x], [Fresh()], [Attribute.Ints("kernel_shape", [kernel, kernel]), Attribute.Ints("strides", [stride, stride]),
            Attribute.Ints("pads", [pad, pad, pad, pad])]), [1, s[1], o, o]);
    }

    public string GlobalAveragePool(string x) => Add(new Node("GlobalAveragePool", [x], [Fresh()]), [1, _shapes[x][1], 1, 1]);

    public string Lrn(string x) => Add(new Node("LRN", [x], [Fresh()], [Attribute.Int("size", 5), Attribute.Float("alpha", 1e-4f), Attribute.Float("beta", 0.75f)]), _shapes[x]);

    public string Concat(params string[] xs)
    {
        var s = (int[])_shapes[xs[0]].Clone();
        s[1] = xs.Sum(x => _shapes[x][1]);
        return Add(new Node("Concat", xs, [Fresh()], [Attribute.Int("axis", 1)]), s);
    }

    /// <summary>Flattens to [1, features] and multiplies by a constant [outputs, features] (transposed, as classifiers are exported).</summary>
    public string Classifier(string x, int outputs)
    {
        var s = _shapes[x];
        int features = s.Skip(1).Aggregate(1, (a, b) => a * b);
        var flat = Add(new Node("Flatten", [x], [Fresh()]), [1, features]);
        return Add(new Node("Gemm", [flat, Const([outputs, features]), Const([outputs])], [Fresh()], [Attribute.Int("transB", 1)]), [1, outputs]);
    }

    public Model Build(params string[] outputs)
    {
        var type = new TensorType(DataType.Float, Shape.Of(_shapes["x"].Select(d => (long)d).ToArray()));
        var g = new Graph("probe", [new ValueInfo("x", type)], outputs.Select(o => new ValueInfo(o, null)), _nodes, _inits);
        return new Model(g, new Dictionary<string, int> { [""] = 17 });
    }

    private string Fresh() => $"v{_next++}";

    private string Add(Node n, int[] shape)
    {
        _nodes.Add(n);
        _shapes[n.Outputs[0]] = shape;
        return n.Outputs[0];
    }

    private string Const(int[] shape, float? value = null)
    {
        var name = $"c{_next++}";
        int n = shape.Aggregate(1, (a, b) => a * b);
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = value ?? (i % 17 - 8) * 0.01f;
        _inits[name] = Tensor.FromArray(data, shape);
        return name;
    }
}
