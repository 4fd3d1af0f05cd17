using Loom.Import.Onnx;
using Loom.Inference;
using Loom.IR;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>The shape rules of the attention and recurrent families keep dims symbolic, and agree with the kernels at run time.</summary>
public sealed class AttentionShapeTests
{
    private static Model OneNode(string op, Attr[] attrs, string[] outputs, params (string Name, DataType Type, string Shape)[] inputs)
    {
        var node = new Node(op, inputs.Select(i => i.Name), outputs, attrs, "n", "");
        var graph = new Graph("g", inputs.Where(i => i.Name.Length > 0).Select(i => new ValueInfo(i.Name, new TensorType(i.Type, Shape.Parse(i.Shape)))),
            outputs.Where(o => o.Length > 0).Select(o => new ValueInfo(o, null)), [node]);
        return new Model(graph, new Dictionary<string, int> { [""] = 23 }, irVersion: 10);
    }

    private static string ShapeOf(Model inferred, string value) => ((TensorType)inferred.Graph.TypeOf(value)!).Shape!.ToString();

    [Fact]
    public void AttentionPresentLengthIsPastPlusNew()
    {
        var m = ShapeInference.Run(OneNode("Attention", [], ["y", "pk", "pv", "qk"],
            ("q", DataType.Float, "[b,4,s,8]"), ("k", DataType.Float, "[b,2,s,8]"), ("v", DataType.Float, "[b,2,s,6]"),
            ("", DataType.Float, "[]"), ("past_k", DataType.Float, "[b,2,p,8]"), ("past_v", DataType.Float, "[b,2,p,6]")));
        Assert.Equal("[b,4,s,6]", ShapeOf(m, "y"));
        Assert.Equal("[b,2,p+s,8]", ShapeOf(m, "pk"));
        Assert.Equal("[b,2,p+s,6]", ShapeOf(m, "pv"));
        Assert.Equal("[b,4,s,p+s]", ShapeOf(m, "qk"));
    }

    [Fact]
    public void Attention3DOutputWidthIsQueryHeadsTimesValueHeadSize()
    {
        var m = ShapeInference.Run(OneNode("Attention", [Attr.Int("q_num_heads", 6), Attr.Int("kv_num_heads", 2)], ["y", "pk"],
            ("q", DataType.Float, "[b,s,48]"), ("k", DataType.Float, "[b,t,16]"), ("v", DataType.Float, "[b,t,10]")));
        Assert.Equal("[b,s,30]", ShapeOf(m, "y"));
        Assert.Equal("[b,2,t,8]", ShapeOf(m, "pk"));
    }

    [Fact]
    public void SymbolicAttentionRunsWithShapeVerification()
    {
        var model = OneNode("Attention", [Attr.Int("is_causal", 1)], ["y", "pk", "pv"],
            ("q", DataType.Float, "[b,2,s,4]"), ("k", DataType.Float, "[b,1,s,4]"), ("v", DataType.Float, "[b,1,s,4]"),
            ("", DataType.Float, "[]"), ("past_k", DataType.Float, "[b,1,p,4]"), ("past_v", DataType.Float, "[b,1,p,4]"));
        using var session = LoomSession.Load(OnnxExporter.ToBytes(model), new LoomSessionOptions { VerifyInferredShapes = true });
        var rng = new Random(5);
        using var r = session.Run(("q", OrtParity.Random(rng, 3, 2, 5, 4)), ("k", OrtParity.Random(rng, 3, 1, 5, 4)), ("v", OrtParity.Random(rng, 3, 1, 5, 4)),
            ("past_k", OrtParity.Random(rng, 3, 1, 7, 4)), ("past_v", OrtParity.Random(rng, 3, 1, 7, 4)));
        Assert.Equal([3, 1, 12, 4], r.Tensor("pk").Shape.ToArray());
    }

    [Theory]
    [InlineData(0, "[s,2,b,5]", "[2,b,5]")]
    [InlineData(1, "[b,s,2,5]", "[b,2,5]")]
    public void LstmShapesFollowLayout(int layout, string y, string state)
    {
        string x = layout == 0 ? "[s,b,3]" : "[b,s,3]";
        var m = ShapeInference.Run(OneNode("LSTM", [Attr.Int("hidden_size", 5), Attr.String("direction", "bidirectional"), Attr.Int("layout", layout)],
            ["y", "yh", "yc"], ("x", DataType.Float, x), ("w", DataType.Float, "[2,20,3]"), ("r", DataType.Float, "[2,20,5]")));
        Assert.Equal(y, ShapeOf(m, "y"));
        Assert.Equal(state, ShapeOf(m, "yh"));
        Assert.Equal(state, ShapeOf(m, "yc"));
    }
}
