using Loom.Import.Onnx;
using Loom.IR;
using Loom.Tests.Support;

namespace Loom.Tests.Import;

/// <summary>Models written by Loom's ONNX writer read back identically, whatever they hold.</summary>
public sealed class RoundTripTests
{
    private static Model Sample(bool withMlNode = true)
    {
        var batch = Dim.Symbol("batch");
        var x = new ValueInfo("x", new TensorType(DataType.Float, new Shape([batch, Dim.Of(4)])));
        var thenBody = new Graph("then", [], [new ValueInfo("t", null)], [new Node("Identity", ["x"], ["t"])]);
        var inits = new Dictionary<string, Tensor>
        {
            ["f32"] = Tensor.FromArray(new float[] { 1.5f, -2, float.NaN, 0 }, 2, 2),
            ["i64"] = Tensor.FromArray(new long[] { long.MinValue, 7 }, 2),
            ["b"] = Tensor.FromArray(new[] { true, false, true }, 3),
            ["s"] = Tensor.FromArray(new[] { "a", "héllo", "" }, 3),
            ["h"] = Tensor.FromArray(new[] { (Half)0.5f, (Half)(-3) }, 2),
            ["bf"] = Tensor.FromArray(new[] { (BFloat16)1.25f, (BFloat16)(-8f) }, 2),
            ["i4"] = Tensor.FromArray(new sbyte[] { -8, 7, 0 }, [3], DataType.Int4),
            ["u8"] = Tensor.FromArray(new byte[] { 0, 255 }, 2),
            ["scalar"] = Tensor.Scalar(3.0),
        };
        var nodes = new[]
        {
            new Node("Identity", ["x"], ["y0"], [
                IR.Attribute.Float("f", 0.25f), IR.Attribute.Int("i", -1), IR.Attribute.String("s", "text"),
                IR.Attribute.Floats("fs", [1, 2]), IR.Attribute.Ints("is", [3, 4]), IR.Attribute.Strings("ss", ["p", "q"]),
                IR.Attribute.Tensor("t", inits["f32"]), IR.Attribute.Graph("g", thenBody)], name: "first"),
            new Node(withMlNode ? "Binarizer" : "Identity", ["y0"], ["y"], domain: withMlNode ? "ai.onnx.ml" : ""),
        };
        var g = new Graph("main", [x], [new ValueInfo("y", new TensorType(DataType.Float, new Shape([batch, Dim.Of(4)])))], nodes, inits);
        return new Model(g, new Dictionary<string, int> { [""] = 17, ["ai.onnx.ml"] = 3 }, irVersion: 9,
            producerName: "loom-test", metadata: new Dictionary<string, string> { ["k"] = "v" });
    }

    [Fact]
    public void WriteThenReadGivesTheSameModel()
    {
        var model = Sample();
        var back = OnnxImporter.Load(OnnxExporter.ToBytes(model));
        Assert.Equal(TextForm.FormatModel(model), TextForm.FormatModel(back));
        foreach (var (name, t) in model.Graph.Initializers)
        {
            var u = back.Graph.Initializers[name];
            Assert.Equal(t.DataType, u.DataType);
            Assert.Equal(t.Shape.ToArray(), u.Shape.ToArray());
            for (int i = 0; i < t.Length; i++)
                if (t.DataType == DataType.String) Assert.Equal(t.AsSpan<string>()[i], u.AsSpan<string>()[i]);
                else Assert.Equal(t.GetDouble(i), u.GetDouble(i));
        }
        Assert.Equal("v", back.Metadata["k"]);
        Assert.Equal(3, back.Opsets["ai.onnx.ml"]);
    }

    [Fact]
    public void SaveWritesAWholeFileAtomically()
    {
        using var dir = new TempDir();
        var path = dir.File("m.onnx");
        OnnxExporter.Save(Sample(), path);
        Assert.Single(Directory.GetFiles(dir.Path)); // no temporary file left behind
        var back = OnnxImporter.Load(path);
        Assert.Equal(TextForm.FormatModel(Sample()), TextForm.FormatModel(back));
    }

    [Fact]
    public void AModelRunsAtAnyBatch()
    {
        using var session = LoomSession.Load(OnnxExporter.ToBytes(Sample(withMlNode: false)));
        Assert.Equal("batch", session.Inputs[0].Shape![0].SymbolName);
        foreach (var batch in new[] { 1, 3, 8 })
        {
            var x = Tensor.FromArray(Enumerable.Range(0, batch * 4).Select(i => (float)i).ToArray(), batch, 4);
            using var r = session.Run(("x", x));
            Assert.Equal(new[] { batch, 4 }, r.Tensor("y").Shape.ToArray());
        }
    }
}
