using Loom.Import.Onnx;
using Loom.Inference;
using Loom.IR;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// PyTorch-style run-time shape arithmetic (Shape → Gather → Unsqueeze → Concat → Reshape, ConstantOfShape,
/// Expand, Range, Slice of a shape) must keep symbolic dims through inference, and agree with execution.
/// </summary>
public sealed class ShapeSymbolicInferenceTests
{
    private static Node N(string op, string[] inputs, string output, params Attr[] attrs) => new(op, inputs, [output], attrs);

    private static Model Build(TensorType input, Node[] nodes, string[] outputs, Dictionary<string, Tensor> inits, int opset = 18) =>
        new(new Graph("g", [new ValueInfo("x", input)], outputs.Select(o => new ValueInfo(o, null)), nodes, inits),
            new Dictionary<string, int> { [""] = opset }, irVersion: 8);

    private static string TypeOf(Model m, string name) => m.Graph.TypeOf(name)!.ToString()!;

    private static Shape S(string text) => Shape.Parse(text);

    /// <summary>Runs the model (shape verification on) so the inferred symbols are checked against real sizes.</summary>
    private static Tensor[] Execute(Model model, Tensor x)
    {
        using var session = LoomSession.Load(OnnxExporter.ToBytes(model), new LoomSessionOptions { VerifyInferredShapes = true });
        using var result = session.Run(new Dictionary<string, LoomValue> { ["x"] = x });
        return result.Select(r => (Tensor)r.Value).ToArray();
    }

    [Fact]
    public void ShapeGatherUnsqueezeConcatReshapeKeepsBatch()
    {
        var model = Build(new TensorType(DataType.Float, S("[batch,3,4]")),
        [
            N("Shape", ["x"], "s"),
            N("Gather", ["s", "zero"], "b", Attr.Int("axis", 0)),
            N("Unsqueeze", ["b", "axes0"], "bu"),
            N("Concat", ["bu", "minus1"], "target", Attr.Int("axis", 0)),
            N("Reshape", ["x", "target"], "y"),
        ], ["y"], new()
        {
            ["zero"] = Tensor.Scalar(0L),
            ["axes0"] = Tensor.FromArray(new long[] { 0 }, 1),
            ["minus1"] = Tensor.FromArray(new long[] { -1 }, 1),
        });
        var inferred = ShapeInference.Run(model);
        Assert.Equal("float32[batch,12]", TypeOf(inferred, "y"));
        Assert.Equal("int64[2]", TypeOf(inferred, "target"));
        Assert.Equal([5, 12], Execute(model, Tensor.Zeros(DataType.Float, [5, 3, 4]))[0].Shape.ToArray());
    }

    [Fact]
    public void ReshapeSplitsAndMergesHeadsSymbolically()
    {
        // [batch,seq,768] -> [0,0,12,64] -> back to [Shape[0:2], -1]
        var model = Build(new TensorType(DataType.Float, S("[batch,seq,768]")),
        [
            N("Reshape", ["x", "heads"], "h"),
            N("Shape", ["h"], "hs", Attr.Int("end", 2)),
            N("Concat", ["hs", "minus1"], "target", Attr.Int("axis", 0)),
            N("Reshape", ["h", "target"], "y"),
        ], ["y"], new()
        {
            ["heads"] = Tensor.FromArray(new long[] { 0, 0, 12, 64 }, 4),
            ["minus1"] = Tensor.FromArray(new long[] { -1 }, 1),
        });
        var inferred = ShapeInference.Run(model);
        Assert.Equal("float32[batch,seq,12,64]", TypeOf(inferred, "h"));
        Assert.Equal("float32[batch,seq,768]", TypeOf(inferred, "y"));
    }

    [Fact]
    public void ConstantOfShapeExpandRangeAndSliceOfShape()
    {
        var model = Build(new TensorType(DataType.Float, S("[batch,seq]")),
        [
            N("Shape", ["x"], "s"),
            N("ConstantOfShape", ["s"], "ones", Attr.Tensor("value", Tensor.FromArray(new long[] { 1 }, 1))),
            N("Slice", ["s", "one", "end"], "last"),           // [seq]
            N("Squeeze", ["last", "axes0"], "seqScalar"),      // seq
            N("Range", ["zeroScalar", "seqScalar", "oneScalar"], "positions"),
            N("Expand", ["positions", "s"], "grid"),           // [batch,seq]
            N("Tile", ["x", "reps"], "tiled"),                  // [batch*2, seq]
        ], ["ones", "positions", "grid", "tiled"], new()
        {
            ["one"] = Tensor.FromArray(new long[] { 1 }, 1),
            ["end"] = Tensor.FromArray(new long[] { long.MaxValue }, 1),
            ["axes0"] = Tensor.FromArray(new long[] { 0 }, 1),
            ["zeroScalar"] = Tensor.Scalar(0L),
            ["oneScalar"] = Tensor.Scalar(1L),
            ["reps"] = Tensor.FromArray(new long[] { 2, 1 }, 2),
        });
        var inferred = ShapeInference.Run(model);
        Assert.Equal("int64[batch,seq]", TypeOf(inferred, "ones"));
        Assert.Equal("int64[seq]", TypeOf(inferred, "positions"));
        Assert.Equal("int64[batch,seq]", TypeOf(inferred, "grid"));
        Assert.Equal("float32[batch*2,seq]", TypeOf(inferred, "tiled"));
        var outs = Execute(model, Tensor.Zeros(DataType.Float, [2, 3]));
        Assert.Equal([0L, 1, 2, 0, 1, 2], outs[2].ToArray<long>());
    }

    [Fact]
    public void SymbolicSliceAndSplitSizes()
    {
        var model = Build(new TensorType(DataType.Float, S("[batch,seq]")),
        [
            N("Slice", ["x", "one", "end", "axes1"], "tail"),     // x[:, 1:]
            N("Slice", ["x", "zero", "minus1", "axes1"], "head"), // x[:, :-1]
            new Node("Split", ["x"], ["a", "b"], [Attr.Int("axis", 0), Attr.Int("num_outputs", 2)]),
        ], ["tail", "head", "a", "b"], new()
        {
            ["zero"] = Tensor.FromArray(new long[] { 0 }, 1),
            ["one"] = Tensor.FromArray(new long[] { 1 }, 1),
            ["minus1"] = Tensor.FromArray(new long[] { -1 }, 1),
            ["end"] = Tensor.FromArray(new long[] { long.MaxValue }, 1),
            ["axes1"] = Tensor.FromArray(new long[] { 1 }, 1),
        });
        var inferred = ShapeInference.Run(model);
        Assert.Equal("float32[batch,seq-1]", TypeOf(inferred, "tail"));
        Assert.Equal("float32[batch,seq-1]", TypeOf(inferred, "head"));
        var outs = Execute(model, Tensor.Zeros(DataType.Float, [5, 4]));
        Assert.Equal([5, 3], outs[0].Shape.ToArray());
        Assert.Equal([3, 4], outs[2].Shape.ToArray());
        Assert.Equal([2, 4], outs[3].Shape.ToArray());
    }

    [Fact]
    public void UnknownShapeInputStillGivesRank()
    {
        var model = new Model(new Graph("g",
            [new ValueInfo("x", new TensorType(DataType.Float, S("[n]"))), new ValueInfo("shape", new TensorType(DataType.Int64, S("[3]")))],
            [new ValueInfo("y", null)],
            [N("Reshape", ["x", "shape"], "y")]), new Dictionary<string, int> { [""] = 18 }, irVersion: 8);
        var t = (TensorType)ShapeInference.Run(model).Graph.TypeOf("y")!;
        Assert.Equal(3, t.Rank);
    }

    [Fact]
    public void ShapeStartEndIdentitySizeAndGatherOfShape()
    {
        var model = Build(new TensorType(DataType.Float, S("[batch,seq,hidden]")),
        [
            N("Shape", ["x"], "mid", Attr.Int("start", 1), Attr.Int("end", -1)),   // [seq]
            N("Identity", ["mid"], "midId"),
            N("Concat", ["minus1", "midId"], "target", Attr.Int("axis", 0)),        // [-1, seq]
            N("Transpose", ["x"], "xt", Attr.Ints("perm", [0, 2, 1])),              // [batch,hidden,seq]
            N("Reshape", ["xt", "target"], "y"),                                    // [batch*hidden, seq]
            N("Size", ["x"], "n"),
            N("Reshape", ["x", "nAsVector"], "flat"),
            N("Unsqueeze", ["n", "axes0"], "nAsVector"),
        ], ["y", "flat"], new()
        {
            ["minus1"] = Tensor.FromArray(new long[] { -1 }, 1),
            ["axes0"] = Tensor.FromArray(new long[] { 0 }, 1),
        });
        // Nodes are listed out of order on purpose only where inference does not care; put them in order.
        model = model.WithGraph(model.Graph.WithNodes(model.Graph.Nodes.OrderBy(n => n.Outputs[0] switch { "n" => 5, "nAsVector" => 6, "flat" => 7, _ => 0 })));
        var inferred = ShapeInference.Run(model);
        Assert.Equal("float32[batch*hidden,seq]", TypeOf(inferred, "y"));
        Assert.Equal("float32[batch*hidden*seq]", TypeOf(inferred, "flat"));
        var outs = Execute(model, Tensor.Zeros(DataType.Float, [2, 3, 4]));
        Assert.Equal([8, 3], outs[0].Shape.ToArray());
        Assert.Equal([24], outs[1].Shape.ToArray());
    }
}
