using Google.Protobuf;
using Loom.Import.Onnx;
using Loom.Import.Onnx.Proto;
using Loom.IR;
using Loom.Tests.Support;

namespace Loom.Tests.Import;

/// <summary>Bad models give a typed LoomException naming the file, node or tensor, and nothing else happens.</summary>
public sealed class BadModelTests
{
    /// <summary>x → Identity → y, plus an initializer 'w' whose proto the test can change.</summary>
    private static ModelProto IdentityModel(TensorProto? w = null)
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(new ValueInfoProto { Name = "x", Type = FloatType(2) });
        g.Output.Add(new ValueInfoProto { Name = "y", Type = FloatType(2) });
        g.Node.Add(new NodeProto { OpType = "Identity", Name = "id", Input = { "x" }, Output = { "y" } });
        if (w is not null)
        {
            g.Initializer.Add(w);
            g.Output.Add(new ValueInfoProto { Name = w.Name });
        }
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return m;
    }

    private static TypeProto FloatType(params long[] dims)
    {
        var t = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() };
        foreach (var d in dims) t.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new TypeProto { TensorType = t };
    }

    private static TensorProto FloatTensor(string name, long[] dims, byte[]? raw = null)
    {
        var t = new TensorProto { Name = name, DataType = 1 };
        t.Dims.AddRange(dims);
        if (raw is not null) t.RawData = ByteString.CopyFrom(raw);
        return t;
    }

    [Fact]
    public void GarbageBytesAreAFormatErrorNamingTheFile()
    {
        using var dir = new TempDir();
        var path = dir.File("garbage.onnx");
        File.WriteAllBytes(path, [0xff, 0xff, 0xff, 0x0f, 0x12, 0x99]);
        var e = Assert.Throws<ModelFormatException>(() => LoomSession.Load(path));
        Assert.Contains("garbage.onnx", e.Message);
    }

    [Fact]
    public void TruncatedModelIsAFormatError()
    {
        var bytes = IdentityModel(FloatTensor("w", [4], new byte[16])).ToByteArray();
        for (int cut = 1; cut < bytes.Length; cut += 3)
            Assert.ThrowsAny<LoomException>(() => LoomSession.Load(bytes[..cut]));
    }

    [Fact]
    public void MissingFileIsAFormatError()
    {
        var e = Assert.Throws<ModelFormatException>(() => LoomSession.Load("/nonexistent/model.onnx"));
        Assert.Contains("/nonexistent/model.onnx", e.Message);
    }

    [Fact]
    public void UnknownOperatorNamesTheNode()
    {
        var m = IdentityModel();
        m.Graph.Node[0].OpType = "FrobnicateTensor";
        var e = Assert.Throws<UnsupportedException>(() => LoomSession.Load(m.ToByteArray()));
        Assert.Contains("'id'", e.Message);
        Assert.Contains("FrobnicateTensor", e.Message);
    }

    [Fact]
    public void NodeInADomainTheModelDoesNotImportIsUnsupported()
    {
        var m = IdentityModel();
        m.Graph.Node[0].Domain = "com.example";
        var e = Assert.Throws<UnsupportedException>(() => LoomSession.Load(m.ToByteArray()));
        Assert.Contains("com.example", e.Message);
    }

    [Fact]
    public void CycleIsAGraphError()
    {
        var m = IdentityModel();
        m.Graph.Node.Clear();
        m.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = "a", Input = { "b_out" }, Output = { "a_out" } });
        m.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = "b", Input = { "a_out" }, Output = { "b_out" } });
        m.Graph.Output[0].Name = "a_out";
        var e = Assert.Throws<GraphException>(() => LoomSession.Load(m.ToByteArray()));
        Assert.Contains("cycle", e.Message);
    }

    [Fact]
    public void UndefinedValueIsAGraphError()
    {
        var m = IdentityModel();
        m.Graph.Node[0].Input[0] = "nowhere";
        var e = Assert.Throws<GraphException>(() => LoomSession.Load(m.ToByteArray()));
        Assert.Contains("'nowhere'", e.Message);
    }

    [Fact]
    public void DeclaredSizeLargerThanTheDataIsRejectedWithoutAllocating()
    {
        // 2^40 floats declared, 16 bytes present: must fail on the size check, not on allocation.
        var m = IdentityModel(FloatTensor("w", [1 << 20, 1 << 20], new byte[16]));
        var e = Assert.ThrowsAny<LoomException>(() => LoomSession.Load(m.ToByteArray()));
        Assert.Contains("'w'", e.Message);
        Assert.True(e is ResourceLimitException or ModelFormatException);
    }

    [Fact]
    public void RawDataOfTheWrongLengthIsAFormatError()
    {
        var m = IdentityModel(FloatTensor("w", [4], new byte[15]));
        var e = Assert.Throws<ModelFormatException>(() => LoomSession.Load(m.ToByteArray()));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("15", e.Message);
    }

    [Fact]
    public void TypedDataOfTheWrongCountIsAFormatError()
    {
        var w = FloatTensor("w", [3]);
        w.FloatData.Add(1f);
        var e = Assert.Throws<ModelFormatException>(() => LoomSession.Load(IdentityModel(w).ToByteArray()));
        Assert.Contains("declares 3 elements but holds 1", e.Message);
    }

    [Fact]
    public void TensorAboveTheConfiguredCapIsAResourceLimit()
    {
        var m = IdentityModel(FloatTensor("w", [1024], new byte[4096]));
        var e = Assert.Throws<ResourceLimitException>(() => LoomSession.Load(m.ToByteArray(), new LoomSessionOptions { MaxTensorBytes = 1000 }));
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void ModelAboveTheConfiguredCapIsAResourceLimit()
    {
        var bytes = IdentityModel(FloatTensor("w", [1024], new byte[4096])).ToByteArray();
        Assert.Throws<ResourceLimitException>(() => LoomSession.Load(bytes, new LoomSessionOptions { MaxModelBytes = 1000 }));
    }

    [Fact]
    public void UnknownDataTypeIsAFormatError()
    {
        var w = FloatTensor("w", [1], new byte[4]);
        w.DataType = 99;
        var e = Assert.Throws<ModelFormatException>(() => LoomSession.Load(IdentityModel(w).ToByteArray()));
        Assert.Contains("unknown data type 99", e.Message);
    }

    [Fact]
    public void OpsetNewerThanLoomKnowsIsUnsupported()
    {
        var m = IdentityModel();
        m.OpsetImport[0].Version = 99;
        var e = Assert.Throws<UnsupportedException>(() => LoomSession.Load(m.ToByteArray()));
        Assert.Contains("opset 99 of ai.onnx", e.Message);
    }
}
