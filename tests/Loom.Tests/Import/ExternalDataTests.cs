using Google.Protobuf;
using Loom.Import.Onnx.Proto;
using Loom.Tests.Support;

namespace Loom.Tests.Import;

/// <summary>External tensor data: read from beside the model, never from outside its folder.</summary>
public sealed class ExternalDataTests
{
    /// <summary>A model whose only output is initializer 'w' (4 floats) stored in <paramref name="location"/>.</summary>
    private static string WriteModel(TempDir dir, string location, long offset = 0, long? length = null)
    {
        var w = new TensorProto { Name = "w", DataType = 1, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.Add(4);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
        if (length is { } l) w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = l.ToString() });
        var g = new GraphProto { Name = "g" };
        g.Initializer.Add(w);
        g.Node.Add(new NodeProto { OpType = "Identity", Input = { "w" }, Output = { "y" } });
        g.Output.Add(new ValueInfoProto { Name = "y" });
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        Directory.CreateDirectory(Path.Combine(dir.Path, "model"));
        var path = Path.Combine(dir.Path, "model", "m.onnx");
        File.WriteAllBytes(path, m.ToByteArray());
        return path;
    }

    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void ReadsDataAtAnOffsetBesideTheModel()
    {
        using var dir = new TempDir();
        var path = WriteModel(dir, "weights.bin", offset: 8, length: 16);
        File.WriteAllBytes(Path.Combine(dir.Path, "model", "weights.bin"), [.. new byte[8], .. Floats(1, 2, 3, 4), .. new byte[5]]);
        using var session = LoomSession.Load(path);
        using var r = session.Run(new Dictionary<string, LoomValue>());
        Assert.Equal(new float[] { 1, 2, 3, 4 }, r.Tensor("y").ToArray<float>());
    }

    [Fact]
    public void ReadsDataInASubfolder()
    {
        using var dir = new TempDir();
        var path = WriteModel(dir, "data/w.bin");
        Directory.CreateDirectory(Path.Combine(dir.Path, "model", "data"));
        File.WriteAllBytes(Path.Combine(dir.Path, "model", "data", "w.bin"), Floats(5, 6, 7, 8));
        using var session = LoomSession.Load(path);
        using var r = session.Run(new Dictionary<string, LoomValue>());
        Assert.Equal(new float[] { 5, 6, 7, 8 }, r.Tensor("y").ToArray<float>());
    }

    [Theory]
    [InlineData("../secret.bin")]
    [InlineData("data/../../secret.bin")]
    [InlineData("/etc/passwd")]
    public void PathsLeavingTheModelFolderAreRefused(string location)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(Path.Combine(dir.Path, "secret.bin"), Floats(9, 9, 9, 9));
        var path = WriteModel(dir, location);
        var e = Assert.Throws<ExternalDataException>(() => LoomSession.Load(path));
        Assert.Contains("'w'", e.Message);
        Assert.Contains(location, e.Message);
    }

    [Fact]
    public void SymbolicLinkLeadingOutsideIsRefused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(Path.Combine(dir.Path, "secret.bin"), Floats(9, 9, 9, 9));
        var path = WriteModel(dir, "link.bin");
        File.CreateSymbolicLink(Path.Combine(dir.Path, "model", "link.bin"), Path.Combine(dir.Path, "secret.bin"));
        var e = Assert.Throws<ExternalDataException>(() => LoomSession.Load(path));
        Assert.Contains("links outside", e.Message);
    }

    [Fact]
    public void MissingFileIsAnError()
    {
        using var dir = new TempDir();
        var path = WriteModel(dir, "absent.bin");
        var e = Assert.Throws<ExternalDataException>(() => LoomSession.Load(path));
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void RangeBeyondTheFileIsAnError()
    {
        using var dir = new TempDir();
        var path = WriteModel(dir, "short.bin", offset: 4, length: 16);
        File.WriteAllBytes(Path.Combine(dir.Path, "model", "short.bin"), Floats(1, 2, 3, 4));
        var e = Assert.Throws<ExternalDataException>(() => LoomSession.Load(path));
        Assert.Contains("has only 16", e.Message);
    }

    [Fact]
    public void ModelFromBytesCannotReadExternalData()
    {
        using var dir = new TempDir();
        var path = WriteModel(dir, "weights.bin");
        var e = Assert.Throws<ExternalDataException>(() => LoomSession.Load(File.ReadAllBytes(path)));
        Assert.Contains("ExternalDataDirectory", e.Message);
    }
}
