using Loom.IR;
using Loom.Scheduling;
using Loom.Streams.Graph;
using Loom.Streams.Models;
using Loom.Tests.Support;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Stages that run several items per firing as one batch (<see cref="ModelStreamOptions.ItemsPerFiring"/>, StreamIt's
/// scaling): every item's outputs must equal a separate <see cref="LoomSession.Run(IReadOnlyDictionary{string, LoomValue}, CancellationToken)"/>
/// (rtol 1e-5), also when the count is not a multiple of the batch (the last firing is partial); the planner batches
/// only stages whose weights outgrow the shared cache; a stateful or non-separable stage runs one item at a time.
/// </summary>
public sealed class ModelStreamBatchTests
{
    internal static ModelStreamOptions Options(int? stages, int? itemsPerFiring, long sharedCache = 32L << 20, MachineProfile? profile = null) => new()
    {
        Cores = 2, Stages = stages, MachineProfile = profile ?? MachineProfile.Fixed(2), PrivateCacheBytes = 1 << 20, SharedCacheBytes = sharedCache,
        ItemsPerFiring = itemsPerFiring,
    };

    /// <param name="atol">Absolute tolerance: a batch runs a matrix product where one item runs a matrix-vector one, which sums in another order.</param>
    private static void AssertMatchesRuns(LoomSession session, IReadOnlyList<Dictionary<string, LoomValue>> items, IReadOnlyList<RunResult> results, string what, double atol = 1e-6)
    {
        Assert.Equal(items.Count, results.Count);
        for (int i = 0; i < items.Count; i++)
        {
            using var expected = session.Run(items[i]);
            using var actual = results[i];
            Assert.Equal(expected.Select(o => o.Name), actual.Select(o => o.Name));
            foreach (var o in expected)
            {
                var e = (Tensor)o.Value;
                var a = actual.Tensor(o.Name);
                Assert.Equal(e.Shape.ToArray(), a.Shape.ToArray());
                OrtOracle.AssertClose(e.ToArray<float>(), e.Shape.ToArray(), a, 1e-5, atol, $"{what} item {i} output {o.Name}");
            }
        }
    }

    // Stages 1: two replicas taking inputs themselves (the caller's thread one of them); 2: a pipeline gathering from its queue.
    // 64 is no multiple of 3, 7 of neither: the last firing is partial.
    [Theory]
    [InlineData(2, 64, 1), InlineData(3, 64, 1), InlineData(2, 7, 1), InlineData(3, 7, 1), InlineData(2, 64, 2), InlineData(3, 7, 2)]
    public void BatchedSqueezeNetMatchesSeparateRuns(int b, int count, int stages)
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        using var session = LoomSession.Load(path);
        using var stream = ModelStream.Load(path, Options(stages, b));
        Assert.All(stream.Plan!.Stages, s => Assert.Equal(b, s.ItemsPerFiring));
        Assert.Contains($"pop {b} peek {b} push {b}", GraphText.Text(stream.StreamGraph!));
        Assert.Contains($"{b} item(s) per firing", stream.Plan.Describe());
        var items = StreamInputs.Items(session.Inputs, new Dictionary<string, long>(), count);
        AssertMatchesRuns(session, items, stream.Run(items), $"squeezenet b={b}");
        AssertMatchesRuns(session, items, stream.Run(items), $"squeezenet b={b}, second run"); // pooled buffers reused
    }

    /// <summary>x[1,256] · W[256,8192] → Relu: 8 MiB of weights and 4 M multiply-adds an item.</summary>
    internal static Model WideGemm()
    {
        var rng = new Random(3);
        var w = Tensor.FromArray(Enumerable.Range(0, 256 * 8192).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), 256, 8192);
        var graph = new IR.Graph("wide", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(1, 256)))], [new ValueInfo("y", new TensorType(DataType.Float, Shape.Of(1, 8192)))],
            [new Node("MatMul", ["x", "w"], ["m"]), new Node("Relu", ["m"], ["y"])], new Dictionary<string, Tensor> { ["w"] = w });
        return new Model(graph, new Dictionary<string, int> { [""] = 17 });
    }

    [Fact]
    public void PlannerBatchesOnlyWeightsBeyondTheSharedCache()
    {
        var model = WideGemm();
        // Fixed profile: 4.2 MFLOP at 40 GFLOP/s is 105 µs an item; 8.4 MB from memory at 10 GB/s, 840 µs: b = 8 (the cap) brings it to 10%
        // of compute, the least b for 5% being 160.
        using (var big = ModelStream.Create(model, Options(1, null, sharedCache: 1 << 20)))
        {
            Assert.Equal(StreamPlanner.MaxItemsPerFiring, big.Plan!.Stages[0].ItemsPerFiring);
            using var session = LoomSession.Create(model, ModelStream.OneCoreSessionOptions());
            foreach (int count in new[] { 64, 13 })
            {
                var items = StreamInputs.Items(session.Inputs, new Dictionary<string, long>(), count);
                // y sums 256 products of up to 0.5 each: float rounding in another order moves a y near 0 by some 1e-6.
                AssertMatchesRuns(session, items, big.Run(items), $"wide gemm, {count} items", atol: 1e-5);
            }
        }
        using var fits = ModelStream.Create(model, Options(1, null, sharedCache: 32L << 20));
        Assert.Equal(1, fits.Plan!.Stages[0].ItemsPerFiring);
        Assert.Null(fits.Plan.Stages[0].WhyOneItem);
    }

    [Theory]
    // Fixed profile: the stage's compute is ~105–120 µs an item (4.2 MFLOP at 40 GFLOP/s, fixed costs, the Relu), 5% of it
    // 5.2–6 µs; its 8,388,608 bytes of weights take 8.4 µs at 1 TB/s (b = ⌈1.4..1.6⌉ = 2), 21 µs at 400 GB/s (⌈3.5..4.0⌉ = 4)
    // and 839 µs at 10 GB/s (160, capped at 8).
    [InlineData(1e12, 2)]
    [InlineData(0.4e12, 4)]
    [InlineData(10e9, StreamPlanner.MaxItemsPerFiring)]
    public void PlannerItemsPerFiringFollowTheMemoryRate(double bytesPerSecond, int expected)
    {
        var options = Options(1, null, sharedCache: 1 << 20, MachineProfile.Fixed(2) with { MemoryBytesPerSecond = bytesPerSecond });
        using var stream = ModelStream.Create(WideGemm(), options);
        Assert.Equal(expected, stream.Plan!.Stages[0].ItemsPerFiring);
        Assert.Equal(bytesPerSecond, stream.Plan.MemoryBytesPerSecond);
        Assert.Contains($"read from memory at {(bytesPerSecond / 1e9).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)} GB/s", stream.Plan.Describe());
    }

    [Fact]
    public void StatefulStageIsNeverBatched()
    {
        // y = x + s, y fed back as s: y_n = x_0 + … + x_n, which a batch of items run together would get wrong.
        var vector = new TensorType(DataType.Float, Shape.Of(1, 4));
        var graph = new IR.Graph("sum", [new ValueInfo("x", vector), new ValueInfo("s", vector)], [new ValueInfo("y", vector)],
            [new Node("Add", ["x", "s"], ["y"])], new Dictionary<string, Tensor>());
        var options = Options(null, 4);
        using var stream = ModelStream.Create(new Model(graph, new Dictionary<string, int> { [""] = 17 }), new ModelStreamOptions
        {
            Cores = 2, MachineProfile = options.MachineProfile, PrivateCacheBytes = options.PrivateCacheBytes, SharedCacheBytes = 0,
            ItemsPerFiring = 4, Feedback = new Dictionary<string, string> { ["y"] = "s" }, Dims = new Dictionary<string, long>(),
        });
        var stateful = Assert.Single(stream.Plan!.Stages, s => s.Stateful);
        Assert.Equal(1, stateful.ItemsPerFiring);
        Assert.Contains("stateful", stateful.WhyOneItem);
        var items = Enumerable.Range(0, 10).Select(i => new Dictionary<string, LoomValue> { ["x"] = Tensor.FromArray(new[] { i, 1f, -i, 0.5f }, 1, 4) }).ToList();
        var results = stream.Run(items);
        var sum = new float[4];
        for (int i = 0; i < items.Count; i++)
        {
            var x = ((Tensor)items[i]["x"]).ToArray<float>();
            for (int k = 0; k < 4; k++) sum[k] += x[k];
            Assert.Equal(sum, results[i].Tensor("y").ToArray<float>());
            results[i].Dispose();
        }
    }

    [Fact]
    public void NonSeparableStageRunsOneItemAtATime()
    {
        // A Transpose that moves the batch axis: a batch of items would mix them.
        var graph = new IR.Graph("moves", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(1, 8)))], [new ValueInfo("y", new TensorType(DataType.Float, Shape.Of(8, 1)))],
            [new Node("Transpose", ["x"], ["t"], [IR.Attribute.Ints("perm", [1, 0])]), new Node("Relu", ["t"], ["y"])], new Dictionary<string, Tensor>());
        var model = new Model(graph, new Dictionary<string, int> { [""] = 17 });
        using var stream = ModelStream.Create(model, Options(1, 4));
        var stage = Assert.Single(stream.Plan!.Stages);
        Assert.Equal(1, stage.ItemsPerFiring);
        Assert.Contains("not batch-separable", stage.WhyOneItem);
        using var session = LoomSession.Create(model, ModelStream.OneCoreSessionOptions());
        var items = StreamInputs.Items(session.Inputs, new Dictionary<string, long>(), 9);
        AssertMatchesRuns(session, items, stream.Run(items), "transpose");
    }

    [Fact]
    public void CliPrintsItemsPerFiring()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        var (exit, stdout, stderr) = CliRunner.Run("stream", path, "--cores", "2", "--stages", "1", "--items-per-firing", "3", "--show", "partition");
        Assert.True(exit == 0, stderr);
        Assert.Contains("×2, 3 item(s) per firing", stdout);
        Assert.Contains("split roundrobin(3, 3)", stdout);
        Assert.Contains("pop 3 peek 3 push 3", stdout);
    }

    [Fact]
    public void ItemsPerFiringBelowOneIsAnInputException() =>
        Assert.Throws<InputException>(() => ModelStream.Create(WideGemm(), Options(1, 0)));
}
