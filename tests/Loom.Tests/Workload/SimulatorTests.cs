using Loom.Workload;
using Loom.Workload.Simulation;

namespace Loom.Tests.WorkloadTests;

/// <summary>The simulator and collective costs on cases worked out by hand.</summary>
public sealed class SimulatorTests
{
    // 1 GB/s links without latency: an all-reduce of 1 GB between two ranks moves half the buffer each way twice: 1 s.
    private static readonly ClusterSpec Cluster = new()
    {
        Devices = 2, Link = new LinkSpec { Bandwidth = 1e9, Latency = 0 }, Topology = Topology.Switch,
    };

    private static WorkloadNode Comp(long id, double seconds, long alloc = 0, params long[] deps) =>
        new() { Id = id, Name = $"c{id}", Kind = WorkloadNodeKind.Compute, Duration = seconds, AllocBytes = alloc, DataDeps = deps };

    private static WorkloadNode AllReduce(long id, long bytes, params long[] deps) =>
        new() { Id = id, Name = $"ar{id}", Kind = WorkloadNodeKind.Collective, Collective = CollectiveKind.AllReduce, CommBytes = bytes,
            Ranks = [0, 1], ProcessGroup = "g", Tag = 0, DataDeps = deps };

    [Fact]
    public void CollectiveWaitsForTheSlowerRankAndDelaysItsConsumers()
    {
        // rank 0: c0 [0,1] → ar [2,3] (waits for rank 1) → c2 [3,3.5]; rank 1: c0 [0,2] → ar [2,3] → c2 [3,3.5].
        var r0 = new RankWorkload { Rank = 0, Nodes = [Comp(0, 1, 100), AllReduce(1, 1_000_000_000, 0), Comp(2, 0.5, 50, 1)], StaticBytes = 1000 };
        var r1 = new RankWorkload { Rank = 1, Nodes = [Comp(0, 2), AllReduce(1, 1_000_000_000, 0), Comp(2, 0.5, 0, 1)] };
        var report = new Simulator(Cluster).Run(new Workload.Workload { Strategy = new ParallelStrategy { DataParallel = 2 }, Ranks = [r0, r1], Multiplicity = [1, 1] });
        Assert.Equal(3.5, report.StepSeconds, 12);
        var a = report.Ranks[0];
        Assert.Equal([0, 2, 3], a.NodeStart);
        Assert.Equal([1, 3, 3.5], a.NodeEnd);
        Assert.Equal(1.5, a.ComputeSeconds, 12);
        Assert.Equal(1.0, a.CommSeconds, 12);
        Assert.Equal(1.0, a.ExposedCommSeconds, 12);      // nothing computes while the all-reduce runs
        Assert.Equal(1.5 / 3.5, a.Utilisation, 12);
        // c0's 100 bytes live until c2 starts... no: until its consumer (the all-reduce) finishes; c2 then adds 50.
        Assert.Equal(1100, a.PeakMemoryBytes);
        Assert.Equal(2.5 / 3.5, report.Ranks[1].Utilisation, 12);
    }

    [Fact]
    public void ComputeOverlapsCommunicationOnItsOwnStream()
    {
        // c0 [0,1]; ar after c0 [1,2]; c2 independent of ar runs [1,3]; exposed communication is 0.
        var nodes = new List<WorkloadNode> { Comp(0, 1), AllReduce(1, 1_000_000_000, 0), Comp(2, 2, 0, 0) };
        var report = new Simulator(Cluster).Run(new Workload.Workload
        {
            Strategy = new ParallelStrategy(), Ranks = [new RankWorkload { Rank = 0, Nodes = nodes }], Multiplicity = [2],
        });
        Assert.Equal(3, report.StepSeconds, 12);
        Assert.Equal(0, report.Ranks[0].ExposedCommSeconds, 12);
    }

    [Fact]
    public void ReceiveCompletesWhenItsSendDoes()
    {
        var send = new WorkloadNode { Id = 1, Name = "s", Kind = WorkloadNodeKind.Send, CommBytes = 500_000_000, Ranks = [0, 1], Tag = 7, DataDeps = [0] };
        var recv = new WorkloadNode { Id = 0, Name = "r", Kind = WorkloadNodeKind.Recv, CommBytes = 500_000_000, Ranks = [0, 1], Tag = 7 };
        var r0 = new RankWorkload { Rank = 0, Nodes = [Comp(0, 1), send] };
        var r1 = new RankWorkload { Rank = 1, Nodes = [recv, Comp(1, 1, 0, 0)] };
        var report = new Simulator(Cluster).Run(new Workload.Workload { Strategy = new ParallelStrategy(), Ranks = [r0, r1], Multiplicity = [1, 1] });
        Assert.Equal(1.5, report.Ranks[1].NodeStart[1], 12); // send [1, 1.5] at 1 GB/s, then compute [1.5, 2.5]
        Assert.Equal(1.5, report.Ranks[1].NodeEnd[0], 12);
        Assert.Equal(2.5, report.StepSeconds, 12);
    }

    [Fact]
    public void SimulatedStepAsAChromeTraceHasOneEventPerNode()
    {
        var workload = new WorkloadPlanner(TinyModels.Mlp(), new Dictionary<string, long>())
            .Builder(new ParallelStrategy { PipelineStages = 2, MicroBatches = 2, Training = true, GlobalBatch = 4 }, new RooflineTimeModel(new DeviceSpec()))
            .BuildAll();
        var report = new Simulator(Cluster).Run(workload);
        using var doc = System.Text.Json.JsonDocument.Parse(SimulationTrace.ToChromeJson(workload, report));
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().Where(e => e.GetProperty("ph").GetString() == "X").ToList();
        Assert.Equal(workload.Ranks.Sum(r => r.Nodes.Count), events.Count);
        Assert.Equal(report.StepSeconds * 1e6, events.Max(e => e.GetProperty("ts").GetDouble() + e.GetProperty("dur").GetDouble()), 1e-2);
    }

    [Fact]
    public void OneRankPerStageSimulatesTheSameStepAsEveryRank()
    {
        // Data- and tensor-parallel peers do the same work at the same time: the sweep's shortcut.
        var builder = new WorkloadPlanner(TinyModels.Mlp(), new Dictionary<string, long>())
            .Builder(new ParallelStrategy { DataParallel = 2, TensorParallel = 2, PipelineStages = 2, MicroBatches = 2, Training = true, GlobalBatch = 8 },
                new RooflineTimeModel(new DeviceSpec()));
        var cluster = new ClusterSpec { Devices = 8, DevicesPerNode = 4, IntraNodeLink = new LinkSpec { Bandwidth = 100e9, Latency = 1e-6 } };
        var all = new Simulator(cluster).Run(builder.BuildAll());
        var few = new Simulator(cluster).Run(builder.BuildRepresentatives());
        Assert.Equal(8, all.Ranks.Count);
        Assert.Equal(2, few.Ranks.Count);
        Assert.Equal(all.StepSeconds, few.StepSeconds, 12);
        Assert.Equal(all.TotalFlops, few.TotalFlops);
    }

    [Fact]
    public void ACollectiveWhosePeerNeverArrivesIsAStallNamingTheNode()
    {
        // Rank 1 holds the all-reduce behind a receive nobody sends.
        var recv = new WorkloadNode { Id = 0, Name = "orphan", Kind = WorkloadNodeKind.Recv, CommBytes = 8, Ranks = [0, 1], Tag = 99 };
        var r0 = new RankWorkload { Rank = 0, Nodes = [Comp(0, 1), AllReduce(1, 8, 0)] };
        var r1 = new RankWorkload { Rank = 1, Nodes = [recv, AllReduce(1, 8, 0)] };
        var e = Assert.Throws<WorkloadException>(() => new Simulator(Cluster).Run(new Workload.Workload { Strategy = new ParallelStrategy(), Ranks = [r0, r1], Multiplicity = [1, 1] }));
        Assert.Contains("stalled", e.Message);
        Assert.Contains("ar1", e.Message);
    }

    [Fact]
    public void AlphaBetaCostsOfRingTreeAndTorus()
    {
        var link = new LinkSpec { Bandwidth = 1e9, Latency = 1e-3 };
        // Ring all-reduce, p = 4, 4 GB: 2(p−1)(α + S/(pB)) = 6 · 1.001.
        Assert.Equal(6 * 1.001, CollectiveCost.Seconds(CollectiveKind.AllReduce, 4_000_000_000, 4, link, Topology.Ring), 9);
        // Switch: halving-doubling, 2·log₂p·α + 2(p−1)/p·S/B = 0.004 + 6.
        Assert.Equal(6.004, CollectiveCost.Seconds(CollectiveKind.AllReduce, 4_000_000_000, 4, link, Topology.Switch), 9);
        // Torus 2×2: 2(x−1)(α + S/(xB)) + 2(y−1)(α + S/(xyB)) = 2(0.001 + 2) + 2(0.001 + 1).
        Assert.Equal(6.004, CollectiveCost.Seconds(CollectiveKind.AllReduce, 4_000_000_000, 4, link, Topology.Torus2D), 9);
        // All-gather ring: (p−1)(α + S/(pB)).
        Assert.Equal(3 * 1.001, CollectiveCost.Seconds(CollectiveKind.AllGather, 4_000_000_000, 4, link, Topology.Ring), 9);
        Assert.Equal(0.5 + 1e-3, CollectiveCost.SendSeconds(500_000_000, link), 12);
        Assert.Equal(0, CollectiveCost.Seconds(CollectiveKind.AllReduce, 1000, 1, link, Topology.Ring));
        Assert.Equal((4, 8), CollectiveCost.TorusDims(32));
    }

    [Fact]
    public void ClusterJsonParsesAndBadFieldsAreNamed()
    {
        var c = ClusterSpec.Parse("""{ "devices": 16, "devicesPerNode": 8, "topology": "torus2D", "device": { "peakFlops": 1e12 }, "intraNodeLink": { "bandwidth": 3e11, "latency": 1e-6 } }""");
        Assert.Equal(16, c.Devices);
        Assert.Equal(Topology.Torus2D, c.Topology);
        Assert.Equal(3e11, c.LinkFor([0, 1, 7]).Bandwidth);
        Assert.Equal(c.Link, c.LinkFor([7, 8]));
        Assert.Equal(c, ClusterSpec.Parse(c.ToJson()));
        Assert.Contains("device.peakFlops", Assert.Throws<WorkloadException>(() => ClusterSpec.Parse("""{ "device": { "peakFlops": -1 } }""")).Message);
        Assert.Throws<WorkloadException>(() => ClusterSpec.Parse("""{ "devcies": 4 }"""));
        Assert.Throws<WorkloadException>(() => ClusterSpec.Parse("[1,2"));
    }

    [Fact]
    public void SweepOfResNet50TrainingOverOneToAThousandDevicesIsFast()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_resnet50.onnx");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var planner = new WorkloadPlanner(Loom.Import.Onnx.OnnxImporter.Load(path), new Dictionary<string, long>());
        var points = WorkloadSweep.Run(planner, new ClusterSpec { Devices = 1024, DevicesPerNode = 8, IntraNodeLink = new LinkSpec { Bandwidth = 300e9, Latency = 2e-6 } },
            1, 1024, training: true, batchPerDevice: 32);
        Assert.True(sw.Elapsed.TotalSeconds < 10, $"sweep took {sw.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(11, points.Select(p => p.Devices).Distinct().Count());
        Assert.Equal(1.0, points[0].Efficiency, 12);
        Assert.All(points, p => Assert.InRange(p.Efficiency, 0, 1.0001));
    }
}
