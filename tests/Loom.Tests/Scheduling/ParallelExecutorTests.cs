using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Scheduling;
using Loom.Tests.Models;

namespace Loom.Tests.Scheduling;

/// <summary>
/// Scheduled runs give exactly (bit for bit) what sequential runs give, on models with real parallel
/// branches, with one thread per node or with wide nodes, run after run and from many threads at once.
/// </summary>
public sealed class ParallelExecutorTests
{
    internal static LoomSessionOptions Parallel(bool interOpOnly) => new()
    {
        IntraOpThreads = 2,
        ExecutionMode = ExecutionMode.Parallel,
        InterOpOnly = interOpOnly,
        MachineProfile = MachineProfile.Fixed(2),
    };

    private static readonly LoomSessionOptions[] Sequential =
    [
        new() { IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential },
        new() { IntraOpThreads = 2, ExecutionMode = ExecutionMode.Sequential },
    ];

    public static TheoryData<string> LightModels() => new("inception_v1", "squeezenet", "resnet50", "densenet121");

    [Theory, MemberData(nameof(LightModels))]
    public void LightModelsMatchSequentialBitForBit(string name)
    {
        var path = SharedData.Require("onnx-backend-tests", "light", $"light_{name}.onnx");
        var bytes = OnnxExporter.ToBytes(LightModelsRandomWeightsTests.WithRandomWeights(OnnxImporter.Load(path), seed: 3));
        AssertSameOutputs(bytes, new Dictionary<string, long>(), expectParallel: name != "densenet121");
    }

    [Fact]
    public void PaddleOcrDetectorMatchesSequentialBitForBit()
    {
        var path = SharedData.Require("models", "ch_PP-OCRv4_det_infer.onnx");
        var dims = new Dictionary<string, long> { ["p2o.DynamicDimension.0"] = 1, ["p2o.DynamicDimension.1"] = 320, ["p2o.DynamicDimension.2"] = 256 };
        AssertSameOutputs(File.ReadAllBytes(path), dims, expectParallel: true);
    }

    private static void AssertSameOutputs(byte[] model, Dictionary<string, long> dims, bool expectParallel)
    {
        var reference = Outputs(model, Sequential[0], dims, expectParallel: false);
        foreach (var options in Sequential.Skip(1).Append(Parallel(interOpOnly: true)).Append(Parallel(interOpOnly: false)))
        {
            // Wide nodes may beat side-by-side branches under the fixed profile; with one thread per node they never do.
            var actual = Outputs(model, options, dims, expectParallel && options.InterOpOnly);
            Assert.Equal(reference.Count, actual.Count);
            for (int i = 0; i < reference.Count; i++)
                Assert.True(reference[i].SequenceEqual(actual[i]), $"output {i} differs ({options.ExecutionMode}, inter-op only {options.InterOpOnly})");
        }
    }

    /// <summary>The outputs of two runs (the second reuses the first's buffers), which must agree.</summary>
    private static List<float[]> Outputs(byte[] model, LoomSessionOptions options, Dictionary<string, long> dims, bool expectParallel)
    {
        using var session = LoomSession.Load(model, options);
        if (expectParallel) Assert.True(session.PlanFor(dims)!.IsParallel, "the schedule runs nodes side by side");
        var input = session.Inputs.Single();
        var x = ConformanceRunner.DeterministicInput(input, s => dims.TryGetValue(s, out var v) ? v : null);
        List<float[]> Once()
        {
            using var r = session.Run((input.Name, x));
            return r.Select(o => ((Tensor)o.Value).ToArray<float>()).ToList();
        }
        var first = Once();
        var second = Once();
        for (int i = 0; i < first.Count; i++) Assert.Equal(first[i], second[i]);
        return first;
    }

    [Fact]
    public void ConcurrentRunsOfOneScheduledSessionAllGetTheirOwnAnswers()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        var bytes = OnnxExporter.ToBytes(LightModelsRandomWeightsTests.WithRandomWeights(OnnxImporter.Load(path), seed: 5));
        using var sequential = LoomSession.Load(bytes, Sequential[0]);
        using var scheduled = LoomSession.Load(bytes, Parallel(interOpOnly: true));
        var inputs = Enumerable.Range(0, 4).Select(k => OrtOracleInput(k)).ToArray();
        var expected = inputs.Select(x => { using var r = sequential.Run(("data_0", x)); return r[0].Value is Tensor t ? t.ToArray<float>() : []; }).ToArray();
        System.Threading.Tasks.Parallel.For(0, 12, i =>
        {
            using var r = scheduled.Run(("data_0", inputs[i % 4]));
            Assert.Equal(expected[i % 4], ((Tensor)r[0].Value).ToArray<float>());
        });
    }

    private static Tensor OrtOracleInput(int seed) => Support.OrtOracle.RandomInput(seed, 1, 3, 224, 224);

    /// <summary>Two independent chains of four nodes; the second holds a Reshape whose target shape is an input.</summary>
    private static byte[] TwoBranches()
    {
        var nodes = new List<Node> { new("Relu", ["x"], ["a0"]), new("Reshape", ["x", "shape"], ["b0"]) };
        for (int i = 1; i < 4; i++)
        {
            nodes.Add(new Node("Sigmoid", [$"a{i - 1}"], [$"a{i}"]));
            nodes.Add(new Node("Neg", [$"b{i - 1}"], [$"b{i}"]));
        }
        var g = new Graph("two", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(4))), new ValueInfo("shape", new TensorType(DataType.Int64, Shape.Of(1)))],
            [new ValueInfo("a3", null), new ValueInfo("b3", null)], nodes);
        return OnnxExporter.ToBytes(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    [Fact]
    public void AFailingNodeFailsTheRunAndTheSessionStaysUsable()
    {
        using var session = LoomSession.Load(TwoBranches(), Parallel(interOpOnly: true));
        Assert.True(session.PlanFor(new Dictionary<string, long>())!.IsParallel);
        var x = Tensor.FromArray(new float[] { -1, 0, 1, 2 }, 4);
        var e = Assert.Throws<ExecutionException>(() => session.Run(("x", x), ("shape", Tensor.FromArray(new long[] { 3 }, 1))));
        Assert.Contains("Reshape", e.Message);
        using var r = session.Run(("x", x), ("shape", Tensor.FromArray(new long[] { 4 }, 1)));
        Assert.Equal(new float[] { 1, 0, -1, -2 }, r.Tensor("b3").ToArray<float>());
    }

    [Fact]
    public void ATraceIsChromeJsonWithEveryNodeOnceOnAWorker()
    {
        // Level 1: at level 2 each chain of element-wise nodes would be one fused node.
        using var session = LoomSession.Load(TwoBranches(), new LoomSessionOptions
            { IntraOpThreads = 2, InterOpOnly = true, MachineProfile = MachineProfile.Fixed(2), OptimizationLevel = 1 });
        var trace = new RunTrace();
        session.Run(new Dictionary<string, LoomValue> { ["x"] = Tensor.FromArray(new float[4], 4), ["shape"] = Tensor.FromArray(new long[] { 4 }, 1) }, trace).Dispose();
        using var doc = System.Text.Json.JsonDocument.Parse(trace.ToChromeJson());
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().Where(e => e.GetProperty("ph").GetString() == "X").ToList();
        Assert.Equal(8, events.Count);
        Assert.Equal(8, events.Select(e => e.GetProperty("name").GetString()).Distinct().Count());
        foreach (var e in events) // a worker waiting for a step nobody has started runs it itself, so any worker may show up
        {
            Assert.InRange(e.GetProperty("tid").GetInt32(), 0, 1);
            Assert.True(e.GetProperty("dur").GetDouble() >= 0);
        }
    }
}
