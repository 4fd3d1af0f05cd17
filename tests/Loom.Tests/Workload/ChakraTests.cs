using Google.Protobuf;
using Loom.Tests.Support;
using Loom.Workload;
using Loom.Workload.Chakra;

namespace Loom.Tests.WorkloadTests;

/// <summary>Chakra files and workload JSON: lossless round trips, the stream layout, bad files.</summary>
public sealed class ChakraTests
{
    private static Workload.Workload Sample() =>
        new WorkloadPlanner(TinyModels.Mlp(), new Dictionary<string, long>())
            .Builder(new ParallelStrategy { DataParallel = 2, TensorParallel = 2, PipelineStages = 2, MicroBatches = 2, Training = true, GlobalBatch = 8 },
                new RooflineTimeModel(new DeviceSpec()))
            .BuildAll(new Dictionary<string, string> { ["model"] = "mlp" });

    [Fact]
    public void ChakraRoundTripIsLosslessForEveryRank()
    {
        using var dir = new TempDir();
        var w = Sample();
        Assert.Equal(8, w.Ranks.Count);
        foreach (var r in w.Ranks)
        {
            var file = dir.File(ChakraTrace.FileName("workload", r.Rank));
            ChakraTrace.Write(r, file);
            var back = ChakraTrace.Read(file);
            Assert.Equal(WorkloadJson.Serialize(r), WorkloadJson.Serialize(back));
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void JsonRoundTripIsLossless()
    {
        using var dir = new TempDir();
        foreach (var r in Sample().Ranks)
        {
            var file = dir.File(WorkloadJson.FileName("workload", r.Rank));
            WorkloadJson.Write(r, file);
            Assert.Equal(WorkloadJson.Serialize(r), WorkloadJson.Serialize(WorkloadJson.Read(file)));
        }
    }

    [Fact]
    public void StreamStartsWithGlobalMetadataThenNodesWithChakraAttributes()
    {
        var r = Sample().Ranks[0];
        using var s = new MemoryStream();
        ChakraTrace.Write(r, s);
        s.Position = 0;
        var meta = Loom.Workload.Chakra.Proto.GlobalMetadata.Parser.ParseDelimitedFrom(s);
        Assert.Equal("0.0.4", meta.Version);
        int count = 0;
        while (s.Position < s.Length)
        {
            var n = Loom.Workload.Chakra.Proto.Node.Parser.ParseDelimitedFrom(s);
            var names = n.Attr.Select(a => a.Name).ToHashSet();
            if (n.Type == Loom.Workload.Chakra.Proto.NodeType.CompNode) Assert.Contains("num_ops", names);
            if (n.Type == Loom.Workload.Chakra.Proto.NodeType.CommCollNode)
            {
                Assert.Contains("comm_type", names);
                Assert.Contains("comm_size", names);
            }
            count++;
        }
        Assert.Equal(r.Nodes.Count, count);
    }

    [Fact]
    public void TruncatedAndForeignFilesAreTraceFormatErrors()
    {
        var r = Sample().Ranks[0];
        using var s = new MemoryStream();
        ChakraTrace.Write(r, s);
        var bytes = s.ToArray();
        Assert.Throws<TraceFormatException>(() => ChakraTrace.Read(new MemoryStream(bytes[..(bytes.Length - 7)])));
        Assert.Throws<TraceFormatException>(() => ChakraTrace.Read(new MemoryStream([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])));
        Assert.Throws<TraceFormatException>(() => WorkloadJson.Parse("{\"rank\": \"x\"}"));
    }
}
