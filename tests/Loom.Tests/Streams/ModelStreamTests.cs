using Loom.IR;
using Loom.Scheduling;
using Loom.Streams.Graph;
using Loom.Streams.Models;
using Loom.Tests.Support;

namespace Loom.Tests.StreamTests;

/// <summary>
/// ONNX models run as streams (<see cref="ModelStream"/>): every light model and both PaddleOCR models give, for
/// each of a few distinct inputs, the outputs of a separate <see cref="LoomSession.Run(IReadOnlyDictionary{string, LoomValue}, CancellationToken)"/>
/// (rtol 1e-5) — cut into a 2-stage pipeline, and as replicas of the whole model; plans are deterministic;
/// bad input is a <see cref="LoomException"/>.
/// </summary>
public sealed class ModelStreamTests
{
    private const int Items = 4;
    /// <summary>Big light models (vgg19 is 20 GFLOP an item) stream fewer items to keep the suite short; two still catch a swap.</summary>
    private static int ItemsFor(string path) => path.Contains("vgg19") || path.Contains("resnet50") || path.Contains("zfnet") ? 2 : Items;

    public static TheoryData<string> Light() =>
        new(["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet", "squeezenet", "vgg19", "zfnet512"]);

    private static ModelStreamOptions Fixed(int cores, int? stages, IReadOnlyDictionary<string, long>? dims = null) => new()
    {
        Cores = cores, Stages = stages, Dims = dims, MachineProfile = MachineProfile.Fixed(cores), PrivateCacheBytes = 1 << 20,
    };

    /// <summary>Streams the items and checks each output against a separate run of a plain session.</summary>
    private static ModelStreamPlan AssertStreamMatchesRuns(string path, ModelStreamOptions options, IReadOnlyDictionary<string, long> dims)
    {
        using var session = LoomSession.Load(path);
        using var stream = ModelStream.Load(path, options);
        int count = ItemsFor(path);
        var items = StreamInputs.Items(session.Inputs, dims, count);
        var results = stream.Run(items);
        Assert.Equal(count, results.Count);
        for (int i = 0; i < count; i++)
        {
            using var expected = session.Run(items[i]);
            using var actual = results[i];
            Assert.Equal(expected.Select(o => o.Name), actual.Select(o => o.Name));
            foreach (var o in expected)
            {
                var e = ((Tensor)o.Value).ToArray<float>();
                var a = actual.Tensor(o.Name);
                Assert.Equal(((Tensor)o.Value).Shape.ToArray(), a.Shape.ToArray());
                OrtOracle.AssertClose(e, ((Tensor)o.Value).Shape.ToArray(), a, 1e-5, 1e-6, $"{Path.GetFileName(path)} item {i} output {o.Name}");
            }
        }
        return stream.Plan!;
    }

    [Theory]
    [MemberData(nameof(Light))]
    public void LightModelAsTwoStagePipelineMatchesSeparateRuns(string name)
    {
        var path = SharedData.Require("onnx-backend-tests", "light", $"light_{name}.onnx");
        var plan = AssertStreamMatchesRuns(path, Fixed(2, 2), new Dictionary<string, long>());
        Assert.Equal(2, plan.Stages.Count);
        Assert.Equal(0, plan.Stages[0].First);
        Assert.Equal(plan.Stages[0].End, plan.Stages[1].First);
        Assert.Equal(plan.Nodes, plan.Stages[1].End);
    }

    [Fact]
    public void ReplicasAndFissionedPipelineMatchSeparateRuns()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        var replicas = AssertStreamMatchesRuns(path, Fixed(2, 1), new Dictionary<string, long>());
        Assert.Equal([2], replicas.Stages.Select(s => s.Replicas));
        // Three cores over two stages: one stage gets a second copy (a round-robin split-join in the graph).
        var mixed = AssertStreamMatchesRuns(path, Fixed(3, 2), new Dictionary<string, long>());
        Assert.Equal(3, mixed.Workers);
        Assert.Contains(mixed.Stages, s => s.Replicas == 2);
        Assert.Contains("split roundrobin(1, 1)", GraphText.Text(mixed.ToStreamGraph("squeezenet")));
    }

    [Fact]
    public void PaddleOcrClassifierStreamMatchesSeparateRuns()
    {
        var path = SharedData.Require("models", "ch_ppocr_mobile_v2.0_cls_infer.onnx");
        var dims = new Dictionary<string, long> { ["p2o.DynamicDimension.0"] = 1, ["p2o.DynamicDimension.1"] = 48, ["p2o.DynamicDimension.2"] = 192 };
        AssertStreamMatchesRuns(path, Fixed(2, 2, dims), dims);
        AssertStreamMatchesRuns(path, Fixed(2, 1), dims); // planned at the first item's sizes
        // A first item that does not give the sizes (rank 2 for a rank-4 input) cannot be planned at.
        using var unplanned = ModelStream.Load(path, Fixed(2, 1));
        var e = Assert.Throws<InputException>(() => unplanned.Run([new Dictionary<string, LoomValue> { ["x"] = Tensor.FromArray(new float[6], 1, 6) }]));
        Assert.Contains("stream item 0", e.Message);
        Assert.Null(unplanned.Plan);
    }

    [Fact]
    public void PaddleOcrDetectorStreamMatchesSeparateRuns()
    {
        var path = SharedData.Require("models", "ch_PP-OCRv4_det_infer.onnx");
        // A smaller image than the bench's 640×640 keeps the test short; the cut and the code are the same.
        var dims = new Dictionary<string, long> { ["p2o.DynamicDimension.0"] = 1, ["p2o.DynamicDimension.1"] = 160, ["p2o.DynamicDimension.2"] = 160 };
        AssertStreamMatchesRuns(path, Fixed(2, 2), dims);
    }

    /// <summary>
    /// x → Relu ×4 → Add(·, w) with w = ConstantOfShape (128 KiB, too big to fold) first in the graph. With the fixed
    /// profile the Relus cost 27 µs each, w 14 µs, the Add 40 µs and a 128 KiB hand-off 9 µs, so the best 2-stage
    /// cut is after the third Relu (82 | 90 µs; after the second or fourth the slower side takes 109–117 µs). Only c
    /// crosses: w is made in the stage that reads it, not carried from the front of the graph.
    /// </summary>
    [Fact]
    public void CutFallsAtTheBalancedGapAndCarriesNoWeight()
    {
        const int n = 32768;
        var vector = new TensorType(DataType.Float, Shape.Of(1, n));
        var graph = new IR.Graph("chain", [new ValueInfo("x", vector)], [new ValueInfo("y", vector)],
        [
            new Node("ConstantOfShape", ["s"], ["w"], [IR.Attribute.Tensor("value", Tensor.FromArray(new[] { 1.5f }, 1))]),
            new Node("Relu", ["x"], ["a"]), new Node("Relu", ["a"], ["b"]), new Node("Relu", ["b"], ["c"]), new Node("Relu", ["c"], ["d"]),
            new Node("Add", ["d", "w"], ["y"]),
        ], new Dictionary<string, Tensor> { ["s"] = Tensor.FromArray(new long[] { 1, n }, 2) });
        var options = new ModelStreamOptions
        {
            Cores = 2, Stages = 2, MachineProfile = MachineProfile.Fixed(2), PrivateCacheBytes = 1 << 20,
            OptimizationLevel = 1, // no element-wise fusion: keep the five nodes apart
        };
        using var stream = ModelStream.Create(new Model(graph, new Dictionary<string, int> { [""] = 17 }), options);
        var plan = stream.Plan!;
        Assert.Equal(6, plan.Nodes);
        Assert.Equal((0, 3), (plan.Stages[0].First, plan.Stages[0].End));
        Assert.Equal(["x"], plan.Stages[0].Reads);
        Assert.Equal(["c"], plan.Stages[0].Writes);
        Assert.Equal(["c"], plan.Stages[1].Reads);
        var stages = stream.StageModels(); // what a stage placed elsewhere would load
        Assert.Equal(["c"], stages[1].Graph.Inputs.Select(i => i.Name));
        Assert.Contains(stages[1].Graph.Nodes, n => n.OpType == "ConstantOfShape");
        Assert.DoesNotContain(stages[0].Graph.Nodes, n => n.OpType == "ConstantOfShape");
        var items = StreamInputs.Items(stream.Inputs, new Dictionary<string, long>(), 3);
        var results = stream.Run(items);
        for (int i = 0; i < items.Count; i++)
        {
            var x = ((Tensor)items[i]["x"]).ToArray<float>(); // non-negative, so y = x + 1.5
            var y = results[i].Tensor("y").ToArray<float>();
            for (int k = 0; k < n; k += 997) Assert.Equal(x[k] + 1.5f, y[k]);
            results[i].Dispose();
        }
    }

    [Fact]
    public void CliStreamsAModelAndPrintsThePlanAndThroughput()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        var (exit, stdout, stderr) = CliRunner.Run("stream", path, "--inputs", "4", "--cores", "2", "--stages", "2");
        Assert.True(exit == 0, stderr);
        Assert.Contains("plan: 2-stage pipeline on 2 core(s)", stdout);
        Assert.Contains("stage1: predicted", stdout);
        Assert.Contains("4 inputs in", stdout);
        Assert.Contains("items/s measured", stdout);
        var bad = CliRunner.Run("stream", path, "--inputs", "0");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("--inputs must be at least 1", bad.Err);
    }

    [Fact]
    public void PlanIsDeterministic()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_inception_v1.onnx");
        string Plan(int? stages)
        {
            using var s = ModelStream.Load(path, Fixed(2, stages));
            return s.Plan!.Describe() + GraphText.Dot(s.StreamGraph!);
        }
        Assert.Equal(Plan(null), Plan(null));
        Assert.Equal(Plan(2), Plan(2));
        Assert.NotEqual(Plan(1), Plan(2));
    }

    // One stage: two replicas taking inputs themselves (one of them the caller's thread); two: a feeder and a pipeline.
    [Theory, InlineData(1), InlineData(2)]
    public void BadInputIsALoomExceptionNamingTheItem(int stages)
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        using var stream = ModelStream.Load(path, Fixed(2, stages));
        var good = StreamInputs.Items(stream.Inputs, new Dictionary<string, long>(), 3);
        var name = stream.Inputs[0].Name;
        var wrongShape = new Dictionary<string, LoomValue>(good[1]) { [name] = Tensor.FromArray(new float[12], 1, 3, 2, 2) };
        var e = Assert.Throws<InputException>(() => stream.Run([good[0], wrongShape, good[2]]));
        Assert.Contains("stream item 1", e.Message);
        Assert.Contains(name, e.Message);
        var unknown = new Dictionary<string, LoomValue>(good[0]) { ["nope"] = good[0][name] };
        Assert.Contains("no input named 'nope'", Assert.Throws<InputException>(() => stream.Run([unknown])).Message);
        Assert.Throws<InputException>(() => ModelStream.Load(path, new ModelStreamOptions { Cores = 0 }));
        // The stream still works after a failed run.
        Assert.Equal(3, stream.Run(good).Count);
    }

    [Theory, InlineData(1), InlineData(2)]
    public void LeavingEarlyStopsTheStreamAndBoundsInFlightItems(int stages)
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        using var stream = ModelStream.Load(path, Fixed(2, stages) is var o ? new ModelStreamOptions
        {
            Cores = o.Cores, Stages = o.Stages, MachineProfile = o.MachineProfile, PrivateCacheBytes = o.PrivateCacheBytes, MaxInFlight = 2,
        } : null);
        int pulled = 0;
        IEnumerable<IReadOnlyDictionary<string, LoomValue>> Endless()
        {
            for (int i = 0; ; i++)
            {
                pulled++;
                yield return StreamInputs.Item(stream.Inputs, new Dictionary<string, long>(), i);
            }
        }
        int taken = 0;
        foreach (var r in stream.Stream(Endless()))
        {
            r.Dispose();
            // The feeder may take at most MaxInFlight items beyond those handed back (and one it waits with).
            Assert.True(pulled <= taken + 1 + 2 + 1, $"{pulled} items pulled with {taken + 1} handed back");
            if (++taken == 5) break;
        }
        Assert.Equal(5, taken);
    }
}
