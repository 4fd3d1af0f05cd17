using Loom.Import.Onnx;
using Loom.IR;
using Loom.Scheduling;
using Loom.Streams.Models;
using Loom.Tests.Support;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Recurrent state through a model run as a stream (<see cref="ModelStreamOptions.Feedback"/>): an LSTM over a
/// stream of chunks, its <c>Y_h</c>/<c>Y_c</c> fed back as the next chunk's <c>initial_h</c>/<c>initial_c</c>. The
/// stream's outputs must equal the same chain of separate runs — by Loom's sessions and by ONNX Runtime — with
/// the state passed by hand; the stateful stage is never copied, the stateless head and tail still are.
/// </summary>
public sealed class ModelStreamFeedbackTests
{
    private const int Input = 4, Hidden = 3, Seq = 2, Wide = 512;
    private static readonly Dictionary<string, string> LstmState = new() { ["Y_h"] = "initial_h", ["Y_c"] = "initial_c" };

    /// <summary>
    /// X → Tanh (head) → LSTM(initial_h, initial_c) → Y_h · M → Relu (tail); outputs logits, Y_h, Y_c. With a
    /// <paramref name="heavyHead"/>, X is 512 wide and the head two matrix products down to the LSTM's 4: the
    /// stateless work is before the state, so the planner copies the stage that feeds it.
    /// </summary>
    private static byte[] LstmModel(bool heavyHead = false)
    {
        var rng = new Random(7);
        Tensor Rand(params int[] shape) => Tensor.FromArray(Enumerable.Range(0, (int)ShapeMath.Size(shape)).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), shape);
        var inits = new Dictionary<string, Tensor>
        {
            ["W"] = Rand(1, 4 * Hidden, Input), ["R"] = Rand(1, 4 * Hidden, Hidden), ["B"] = Rand(1, 8 * Hidden), ["M"] = Rand(Hidden, 2),
        };
        TensorType F(params int[] s) => new(DataType.Float, Shape.Of(s));
        var head = heavyHead
            ? new[] { new Node("MatMul", ["X", "P1"], ["x1"], null, "wide", ""), new Node("Tanh", ["x1"], ["x2"], null, "act", ""), new Node("MatMul", ["x2", "P2"], ["Xt"], null, "narrow", "") }
            : new[] { new Node("Tanh", ["X"], ["Xt"], null, "head", "") };
        if (heavyHead)
        {
            inits["P1"] = Rand(Wide, Wide);
            inits["P2"] = Rand(Wide, Input);
        }
        Node[] nodes =
        [
            .. head,
            new Node("LSTM", ["Xt", "W", "R", "B", "", "initial_h", "initial_c"], ["Y", "Y_h", "Y_c"], [IR.Attribute.Int("hidden_size", Hidden)], "lstm", ""),
            new Node("Squeeze", ["Y_h", "axes0"], ["h2"], null, "squeeze", ""),
            new Node("MatMul", ["h2", "M"], ["mm"], null, "proj", ""),
            new Node("Relu", ["mm"], ["logits"], null, "tail", ""),
        ];
        inits["axes0"] = Tensor.FromArray(new long[] { 0 }, 1);
        var graph = new Graph("lstm_stream",
            [new ValueInfo("X", F(Seq, 1, heavyHead ? Wide : Input)), new ValueInfo("initial_h", F(1, 1, Hidden)), new ValueInfo("initial_c", F(1, 1, Hidden))],
            [new ValueInfo("logits", F(1, 2)), new ValueInfo("Y_h", F(1, 1, Hidden)), new ValueInfo("Y_c", F(1, 1, Hidden))],
            nodes, inits);
        return OnnxExporter.ToBytes(new Model(graph, new Dictionary<string, int> { [""] = 17 }, irVersion: 8));
    }

    private static string Save(TempDir dir, bool heavyHead = false)
    {
        var path = dir.File(heavyHead ? "lstm-wide.onnx" : "lstm.onnx");
        File.WriteAllBytes(path, LstmModel(heavyHead));
        return path;
    }

    private static List<Dictionary<string, LoomValue>> Chunks(int count, int width = Input) =>
        Enumerable.Range(0, count).Select(i => new Dictionary<string, LoomValue> { ["X"] = OrtOracle.RandomInput(100 + i, Seq, 1, width) }).ToList();

    private static ModelStreamOptions Options(int cores, int? stages) => new()
    {
        Cores = cores, Stages = stages, Feedback = LstmState, MachineProfile = MachineProfile.Fixed(cores), PrivateCacheBytes = 1 << 20,
    };

    /// <summary>The chain by hand: each item's Y_h/Y_c become the next item's initial_h/initial_c (zeros first, or what an item gives).</summary>
    private static List<Dictionary<string, float[]>> Chain(IReadOnlyList<Dictionary<string, LoomValue>> items, Func<Dictionary<string, Tensor>, Dictionary<string, float[]>> run)
    {
        var h = Tensor.Zeros(DataType.Float, [1, 1, Hidden]);
        var c = Tensor.Zeros(DataType.Float, [1, 1, Hidden]);
        var results = new List<Dictionary<string, float[]>>();
        foreach (var item in items)
        {
            if (item.TryGetValue("initial_h", out var hv)) h = (Tensor)hv;
            if (item.TryGetValue("initial_c", out var cv)) c = (Tensor)cv;
            var r = run(new Dictionary<string, Tensor> { ["X"] = (Tensor)item["X"], ["initial_h"] = h, ["initial_c"] = c });
            results.Add(r);
            h = Tensor.FromArray(r["Y_h"], 1, 1, Hidden);
            c = Tensor.FromArray(r["Y_c"], 1, 1, Hidden);
        }
        return results;
    }

    private static List<Dictionary<string, float[]>> LoomChain(string path, IReadOnlyList<Dictionary<string, LoomValue>> items)
    {
        using var session = LoomSession.Load(path);
        return Chain(items, feeds =>
        {
            using var r = session.Run(feeds.ToDictionary(kv => kv.Key, kv => (LoomValue)kv.Value));
            return r.ToDictionary(o => o.Name, o => ((Tensor)o.Value).ToArray<float>());
        });
    }

    private static void AssertStreamIsChain(string path, ModelStreamOptions options, List<Dictionary<string, LoomValue>> items, List<Dictionary<string, float[]>> expected, double rtol)
    {
        using var stream = ModelStream.Load(path, options);
        var results = stream.Run(items);
        Assert.Equal(items.Count, results.Count);
        for (int i = 0; i < items.Count; i++)
            using (var r = results[i])
                foreach (var name in new[] { "logits", "Y_h", "Y_c" })
                {
                    var e = expected[i][name];
                    var a = r.Tensor(name).ToArray<float>();
                    Assert.Equal(e.Length, a.Length);
                    for (int k = 0; k < e.Length; k++)
                        Assert.True(Math.Abs(a[k] - e[k]) <= 1e-6 + rtol * Math.Abs(e[k]), $"item {i} {name}[{k}]: stream {a[k]} vs chain {e[k]}");
                }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, null)]
    [InlineData(3, 3)]
    public void StateCarriedAcrossItemsMatchesChainOfRuns(int cores, int? stages)
    {
        using var dir = new TempDir();
        var bytes = LstmModel();
        var path = dir.File("lstm.onnx");
        File.WriteAllBytes(path, bytes);
        var items = Chunks(12);
        var loom = LoomChain(path, items);
        var ort = Chain(items, feeds => OrtOracle.Run(bytes, feeds).ToDictionary(kv => kv.Key, kv => kv.Value.Data));
        // The state matters: with it reset to zeros every item, item 1's hidden state differs.
        var reset = LoomChain(path, items.Select(x => new Dictionary<string, LoomValue>(x)
        {
            ["initial_h"] = Tensor.Zeros(DataType.Float, [1, 1, Hidden]), ["initial_c"] = Tensor.Zeros(DataType.Float, [1, 1, Hidden]),
        }).ToList());
        Assert.NotEqual(reset[1]["Y_h"], loom[1]["Y_h"]);
        AssertStreamIsChain(path, Options(cores, stages), items, loom, 1e-5);
        AssertStreamIsChain(path, Options(cores, stages), items, ort, 1e-4);
    }

    [Fact]
    public void StatefulStageIsNotCopiedButItsNeighboursAre()
    {
        using var dir = new TempDir();
        var path = Save(dir);
        using var three = ModelStream.Load(path, Options(4, 3));
        var plan = three.Plan ?? Plan(three);
        var why = plan.Describe();
        var stateful = Assert.Single(plan.Stages, s => s.Stateful);
        Assert.Equal(1, stateful.Replicas);
        Assert.Equal(4, plan.Workers); // the spare core went to a stateless stage
        Assert.Contains(plan.Stages, s => !s.Stateful && s.Replicas == 2);
        Assert.True(stateful.Reads.Contains("initial_h") && stateful.Reads.Contains("initial_c"), why);
        Assert.True(plan.Stages.Where(s => !s.Stateful).All(s => !s.Writes.Contains("Y_h") && !s.Reads.Contains("initial_h")), why);
        Assert.Contains("stateful", Loom.Streams.Graph.GraphText.Text(three.StreamGraph!));

        using var whole = ModelStream.Load(path, Options(2, 1));
        var one = whole.Plan ?? Plan(whole);
        Assert.True(one.Stages[0].Stateful);
        Assert.Equal(1, one.Stages[0].Replicas); // a copy would read a state the other has not made yet
    }

    private static ModelStreamPlan Plan(ModelStream stream)
    {
        foreach (var r in stream.Stream(Chunks(1))) r.Dispose();
        return stream.Plan!;
    }

    [Fact]
    public void CopiesBeforeTheStateHandItOnInOrder()
    {
        using var dir = new TempDir();
        var path = Save(dir, heavyHead: true);
        var options = Options(3, 2);
        using (var stream = ModelStream.Load(path, options))
        {
            var plan = stream.Plan!;
            Assert.True(plan.Stages is [{ Stateful: false, Replicas: 2 }, { Stateful: true, Replicas: 1 }], plan.Describe());
        }
        // Two copies of the head finish items out of order; the stateful stage must still take them in order.
        var items = Chunks(40, Wide);
        AssertStreamIsChain(path, options, items, LoomChain(path, items), 1e-5);
    }

    [Fact]
    public void ItemGivingTheStateRestartsIt()
    {
        using var dir = new TempDir();
        var path = Save(dir);
        var items = Chunks(6);
        items[3]["initial_h"] = OrtOracle.RandomInput(9, 1, 1, Hidden);
        items[3]["initial_c"] = Tensor.Zeros(DataType.Float, [1, 1, Hidden]);
        AssertStreamIsChain(path, Options(2, 2), items, LoomChain(path, items), 1e-5);
    }

    [Fact]
    public void EachRunStartsFromZeros()
    {
        using var dir = new TempDir();
        var path = Save(dir);
        var items = Chunks(3);
        var expected = LoomChain(path, items);
        using var stream = ModelStream.Load(path, Options(2, null));
        for (int round = 0; round < 2; round++)
        {
            var results = stream.Run(items);
            for (int i = 0; i < items.Count; i++)
                using (var r = results[i]) Assert.Equal(expected[i]["Y_h"], r.Tensor("Y_h").ToArray<float>());
        }
    }

    [Theory]
    [InlineData("nope", "initial_h", "no output 'nope'")]
    [InlineData("Y_h", "nope", "no input 'nope'")]
    public void BadFeedbackNamesThePair(string output, string input, string message)
    {
        using var dir = new TempDir();
        var path = Save(dir);
        var e = Assert.Throws<InputException>(() => ModelStream.Load(path, new ModelStreamOptions { Feedback = new Dictionary<string, string> { [output] = input } }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MoreStagesThanTheStateAllowsIsAnError()
    {
        using var dir = new TempDir();
        var path = Save(dir);
        var e = Assert.ThrowsAny<LoomException>(() => Plan(ModelStream.Load(path, Options(8, 8))));
        Assert.Contains("in one stage", e.Message);
    }

    [Fact]
    public void TraceHasOneSpanPerItemAndStage()
    {
        using var dir = new TempDir();
        var path = Save(dir);
        using var stream = ModelStream.Load(path, Options(3, 3));
        var trace = new RunTrace();
        foreach (var r in stream.Stream(Chunks(5), trace)) r.Dispose();
        var spans = trace.Events;
        Assert.Equal(15, spans.Count);
        foreach (var stage in new[] { "stage0", "stage1", "stage2" })
            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"item {i}"), spans.Where(s => s.OpType == stage).Select(s => s.Node).Order(StringComparer.Ordinal));
        // The stateful stage ran its items one after another.
        var lstm = spans.Where(s => s.OpType == "stage1").OrderBy(s => s.StartMicroseconds).ToList();
        for (int i = 1; i < lstm.Count; i++) Assert.True(lstm[i].StartMicroseconds >= lstm[i - 1].StartMicroseconds + lstm[i - 1].DurationMicroseconds - 1e-3);
        var file = dir.File("t.json");
        trace.WriteChromeJson(file);
        Assert.Contains("loom-stream-stage1.0", File.ReadAllText(file));
    }

    [Fact]
    public void CliStreamsWithFeedbackAndWritesTrace()
    {
        using var dir = new TempDir();
        var path = Save(dir);
        var trace = dir.File("trace.json");
        var (exit, output, err) = CliRunner.Run("stream", path, "--inputs", "6", "--cores", "2", "--stages", "2",
            "--feedback", "Y_h=initial_h", "--feedback", "Y_c=initial_c", "--trace", trace);
        Assert.True(exit == 0, err);
        Assert.Contains("(stateful: items in order)", output);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(trace));
        var spans = json.RootElement.GetProperty("traceEvents").EnumerateArray().Where(e => e.GetProperty("ph").GetString() == "X").ToList();
        Assert.Equal(2 * 6, spans.Count); // the timed run's 6 items through 2 stages (the warm-up is not traced)

        var (badExit, _, badErr) = CliRunner.Run("stream", path, "--feedback", "Y_h");
        Assert.NotEqual(0, badExit);
        Assert.Contains("OUTPUT=INPUT", badErr);
    }
}
