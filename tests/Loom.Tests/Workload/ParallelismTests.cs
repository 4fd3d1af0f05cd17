using Loom.Workload;

namespace Loom.Tests.WorkloadTests;

/// <summary>The collectives each strategy implies, with the sizes worked out by hand.</summary>
public sealed class ParallelismTests
{
    private static readonly Dictionary<string, long> NoDims = new();
    private static readonly IComputeTimeModel Roofline = new RooflineTimeModel(new DeviceSpec());

    private static Workload.Workload Build(ParallelStrategy s) =>
        new WorkloadPlanner(TinyModels.Mlp(), NoDims).Builder(s, Roofline).BuildAll();

    private static IEnumerable<WorkloadNode> Collectives(RankWorkload r, string pgPrefix) =>
        r.Nodes.Where(n => n.Kind == WorkloadNodeKind.Collective && n.ProcessGroup.StartsWith(pgPrefix, StringComparison.Ordinal));

    [Theory]
    [InlineData(25L << 20)]
    [InlineData(300L)] // several buckets: the split must not lose or double bytes
    public void DataParallelAllReduceBytesEqualParameterBytes(long bucket)
    {
        var w = Build(new ParallelStrategy { DataParallel = 4, Training = true, GlobalBatch = 16, BucketBytes = bucket });
        Assert.Equal(4, w.Ranks.Count);
        foreach (var r in w.Ranks)
        {
            var ar = Collectives(r, "dp").ToList();
            Assert.All(ar, n => Assert.Equal(CollectiveKind.AllReduce, n.Collective));
            Assert.All(ar, n => Assert.Equal(4, n.Ranks.Count));
            Assert.Equal(1536, ar.Sum(n => n.CommBytes));
            if (bucket == 300) Assert.True(ar.Count > 1);
        }
    }

    [Fact]
    public void ShardedOptimizerReduceScattersGradientsAndAllGathersParameters()
    {
        var w = Build(new ParallelStrategy { DataParallel = 4, Training = true, GlobalBatch = 16, ShardedOptimizer = true });
        var dp = Collectives(w.Ranks[2], "dp").ToList();
        Assert.Equal(1536, dp.Where(n => n.Collective == CollectiveKind.ReduceScatter).Sum(n => n.CommBytes));
        Assert.Equal(1536, dp.Where(n => n.Collective == CollectiveKind.AllGather).Sum(n => n.CommBytes));
        Assert.DoesNotContain(dp, n => n.Collective == CollectiveKind.AllReduce);
        var update = w.Ranks[2].Nodes.Single(n => n.Phase == StepPhase.Optimizer);
        Assert.Equal(4 * (384 / 4), update.Flops); // momentum: 4 FLOPs per element of the rank's quarter
        // Parameters and gradients whole, momentum sharded: 1536 + 1536 + 1536/4.
        Assert.Equal(1536 * 2 + 384, w.Ranks[2].StaticBytes);
    }

    [Fact]
    public void DataParallelBytesOfResNet50EqualItsParameterBytes()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_resnet50.onnx");
        var planner = new WorkloadPlanner(Loom.Import.Onnx.OnnxImporter.Load(path), NoDims);
        var w = planner.Builder(new ParallelStrategy { DataParallel = 8, Training = true, GlobalBatch = 64 }, Roofline).BuildRepresentatives();
        long bytes = Collectives(w.Ranks[0], "dp").Sum(n => n.CommBytes);
        Assert.Equal(planner.Profile(8).ParameterBytes, bytes);
        Assert.Equal(25_557_032L * 4, bytes);
    }

    [Fact]
    public void TensorParallelMatMulsAlternateColumnAndRowWithTheImpliedAllReduces()
    {
        // Batch 4, tp 2. mm0 column (input x needs no gradient: no backward all-reduce), mm1 row: its output
        // [4,16] is all-reduced forward (256 bytes); mm2 column on replicated r1: dX of r1 [4,16] all-reduced
        // backward (256 bytes); mm3 row: output [4,8] all-reduced forward (128 bytes).
        var w = Build(new ParallelStrategy { TensorParallel = 2, Training = true, GlobalBatch = 4 });
        var r = w.Ranks[1];
        var tp = Collectives(r, "tp").ToList();
        Assert.Equal(["allreduce.mm1.mb0", "allreduce.mm3.mb0", "allreduce.grad.mm2.mb0"], tp.Select(n => n.Name));
        Assert.Equal([256L, 128L, 256L], tp.Select(n => n.CommBytes));
        Assert.All(tp, n => Assert.Equal([0, 1], n.Ranks));
        var mm0 = r.Nodes.Single(n => n.Name == "mm0.mb0");
        Assert.Equal(2L * 4 * 8 * 8 / 2, mm0.Flops); // half the output columns
        // Each rank holds half of every weight: data parallelism would all-reduce 768 bytes per rank.
        var dp = Build(new ParallelStrategy { TensorParallel = 2, DataParallel = 2, Training = true, GlobalBatch = 8 });
        Assert.Equal(768, Collectives(dp.Ranks[0], "dp").Sum(n => n.CommBytes));
    }

    [Fact]
    public void TensorParallelAttentionSplitsHeadsWithOneAllReduceForward()
    {
        // Megatron's attention: Wq/Wk/Wv column-split (a head per rank), heads stay local through Reshape,
        // Transpose, the score and context products and Softmax; Wo row-split: one all-reduce of y [2,4,8] (256 bytes).
        var w = new WorkloadPlanner(TinyModels.Attention(), NoDims).Builder(new ParallelStrategy { TensorParallel = 2, GlobalBatch = 2 }, Roofline).BuildAll();
        var r = w.Ranks[0];
        var tp = Collectives(r, "tp").ToList();
        Assert.Equal("allreduce.out.mb0", Assert.Single(tp).Name);
        Assert.Equal(256, tp[0].CommBytes);
        Assert.Equal(2L * 2 * 2 * 4 * 4 * 4 / 2, r.Nodes.Single(n => n.Name == "scores.mb0").Flops); // 2·B·H·S·S·D over 2 ranks
    }

    [Fact]
    public void PipelineStagesSendActivationsForwardAndGradientsBack()
    {
        var w = Build(new ParallelStrategy { PipelineStages = 2, MicroBatches = 2, Training = true, GlobalBatch = 4 });
        var sends0 = w.Ranks[0].Nodes.Where(n => n.Kind == WorkloadNodeKind.Send).ToList();
        var recvs1 = w.Ranks[1].Nodes.Where(n => n.Kind == WorkloadNodeKind.Recv).ToList();
        Assert.Equal(2, sends0.Count); // one activation per micro-batch
        Assert.Equal(sends0.Select(n => (n.Tag, n.CommBytes)).Order(), recvs1.Select(n => (n.Tag, n.CommBytes)).Order());
        Assert.Equal(2, w.Ranks[1].Nodes.Count(n => n.Kind == WorkloadNodeKind.Send)); // gradients back
        var ops0 = w.Ranks[0].Nodes.Where(n => n.Kind == WorkloadNodeKind.Compute && n.Phase == StepPhase.Forward).Select(n => n.Name).ToList();
        var ops1 = w.Ranks[1].Nodes.Where(n => n.Kind == WorkloadNodeKind.Compute && n.Phase == StepPhase.Forward).Select(n => n.Name).ToList();
        Assert.Empty(ops0.Intersect(ops1));
        Assert.Equal(7 * 2, ops0.Count + ops1.Count);
        // 1F1B as control dependencies, one per block after the first: stage 0 runs F0 F1 B0 B1, stage 1 F0 B0 F1 B1.
        Assert.All(w.Ranks, r => Assert.Equal(3, r.Nodes.Count(n => n.CtrlDeps.Count == 1)));
        var blocks1 = w.Ranks[1].Nodes.Where(n => n.Kind == WorkloadNodeKind.Compute && n.Phase != StepPhase.Optimizer).Select(n => (n.Phase, n.MicroBatch)).Distinct().ToList();
        Assert.Equal([(StepPhase.Forward, 0), (StepPhase.Backward, 0), (StepPhase.Forward, 1), (StepPhase.Backward, 1)], blocks1);
    }

    [Fact]
    public void PartitionBalancesTheBottleneckStage()
    {
        Assert.Equal([0, 0, 0, 0, 1], PipelinePartition.Balance([1, 1, 1, 1, 4], 2));
        Assert.Equal([0, 1, 2], PipelinePartition.Balance([5, 1, 1], 3));
        Assert.Throws<WorkloadException>(() => PipelinePartition.Balance([1, 1], 3));
    }

    [Fact]
    public void StrategiesThatDoNotDivideAreRejected()
    {
        Assert.Throws<WorkloadException>(() => new ParallelStrategy { DataParallel = 3, GlobalBatch = 8 }.Validated());
        Assert.Throws<WorkloadException>(() => new ParallelStrategy { TensorParallel = 0 }.Validated());
        Assert.Throws<WorkloadException>(() => new ParallelStrategy { DataParallel = 4, GlobalBatch = 8 }.Validated(devices: 2));
    }

    [Fact]
    public void InferenceHasNoBackwardAndNoGradientTraffic()
    {
        var w = Build(new ParallelStrategy { DataParallel = 2, GlobalBatch = 2 });
        Assert.All(w.Ranks, r => Assert.DoesNotContain(r.Nodes, n => n.Phase is StepPhase.Backward or StepPhase.Optimizer || n.IsComm));
    }
}
