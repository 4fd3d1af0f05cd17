using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Runtime;
using Loom.Runtime.Threading;
using Loom.Tests.Models;

namespace Loom.Tests.Runtime;

/// <summary>
/// A held job (<see cref="WorkerPool.HoldNextJob"/>) runs every part once, in the next job's join, or alone when none comes or when
/// the step that held it submits again; sessions that hold SqueezeNet-style 1×1 expands give the sequential bits.
/// </summary>
public sealed class HeldJobTests
{
    private struct FillJob(int[] target, int value) : IParallelJob
    {
        public void Execute(int part) => target[part] += value + part;
    }

    /// <summary>Each part records the sum of <c>source</c> it sees: a job that reads what the held one writes.</summary>
    private struct SumJob(int[] source, long[] seen) : IParallelJob
    {
        public void Execute(int part)
        {
            long sum = 0;
            foreach (int v in source) sum += v;
            seen[part] = sum;
        }
    }

    private struct ThrowJob : IParallelJob
    {
        public void Execute(int part)
        {
            if (part == 1) throw new InvalidOperationException("held part 1 failed");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AHeldJobRunsWithTheNextOneAndEveryPartOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        for (int round = 0; round < 1500; round++)
        {
            int heldParts = 1 + round % 7, parts = 1 + round % 11;
            var held = new int[heldParts];
            var next = new int[parts];
            pool.HoldNextJob();
            pool.Run(heldParts, new FillJob(held, round)); // the same job type as the next one: each keeps its own copy
            pool.EndHoldingStep();
            pool.Run(parts, new FillJob(next, 2 * round));
            pool.RunHeld();
            for (int p = 0; p < heldParts; p++) Assert.Equal(round + p, held[p]);
            for (int p = 0; p < parts; p++) Assert.Equal(2 * round + p, next[p]);
        }
        Assert.Equal(threads > 1 ? 1500 : 0, pool.HeldJobs);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void AHeldJobRunsAloneWhenNoJobFollows(int threads)
    {
        using var pool = new WorkerPool(threads);
        var held = new int[5];
        pool.HoldNextJob();
        pool.Run(5, new FillJob(held, 10));
        pool.EndHoldingStep();
        pool.RunHeld();
        Assert.Equal(new[] { 10, 11, 12, 13, 14 }, held);
        var next = new int[3]; // nothing is left held or armed
        pool.Run(3, new FillJob(next, 0));
        Assert.Equal(new[] { 0, 1, 2 }, next);
        Assert.Equal(new[] { 10, 11, 12, 13, 14 }, held);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void TheHoldingStepsOwnNextJobSeesTheHeldOneDone(int threads)
    {
        using var pool = new WorkerPool(threads);
        for (int round = 0; round < 500; round++)
        {
            var held = new int[9];
            var seen = new long[6];
            pool.HoldNextJob();
            pool.Run(held.Length, new FillJob(held, 1));
            pool.Run(seen.Length, new SumJob(held, seen)); // before EndHoldingStep: may depend on the held job
            pool.EndHoldingStep();
            pool.RunHeld();
            Assert.All(seen, s => Assert.Equal(9 + 36, s));
        }
    }

    [Fact]
    public void AFailingHeldPartFailsTheSharedJobAndThePoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        pool.HoldNextJob();
        pool.Run(4, new ThrowJob());
        pool.EndHoldingStep();
        var next = new int[4];
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(4, new FillJob(next, 0)));
        Assert.Equal("held part 1 failed", e.Message);
        pool.RunHeld();
        var after = new int[6];
        pool.Run(6, new FillJob(after, 0));
        Assert.Equal(Enumerable.Range(0, 6), after);
    }

    /// <summary>
    /// SqueezeNet's fire modules hold their 1×1 expand for the 3×3 expand's first job; a small fire module with odd sizes
    /// (55×57 planes, 17 squeeze, 37 and 19 expand channels: the 3×3 on Winograd) and SqueezeNet with random weights give the one-thread bits at 1–3
    /// threads, and do hold.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HeldExpandsGiveTheSequentialBits(bool squeezenet)
    {
        byte[] model = squeezenet
            ? OnnxExporter.ToBytes(LightModelsRandomWeightsTests.WithRandomWeights(
                OnnxImporter.Load(SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx")), seed: 7))
            : Fire(55, 57, 6, 17, 37, 19);
        var reference = Outputs(model, 1, hold: false, out _);
        for (int threads = 1; threads <= 3; threads++)
        {
            var actual = Outputs(model, threads, hold: true, out long held);
            Assert.True(reference.SequenceEqual(actual), $"{threads} threads differ");
            if (threads > 1) Assert.True(held > 0, $"{threads} threads held no job");
        }
    }

    private static float[] Outputs(byte[] model, int threads, bool hold, out long held)
    {
        bool before = CompiledGraph.HoldJobs;
        using var pool = new WorkerPool(threads);
        CompiledGraph.HoldJobs = hold;
        try
        {
            using var session = LoomSession.Load(model, new LoomSessionOptions
                { IntraOpThreads = threads, ExecutionMode = ExecutionMode.Sequential, SharedPool = pool });
            var input = session.Inputs.Single();
            var x = ConformanceRunner.DeterministicInput(input, _ => 1);
            float[] Once()
            {
                using var r = session.Run((input.Name, x));
                return ((Tensor)r[0].Value).ToArray<float>();
            }
            var first = Once();
            Assert.Equal(first, Once()); // the second run reuses the first's buffers
            held = pool.HeldJobs;
            return first;
        }
        finally
        {
            CompiledGraph.HoldJobs = before;
        }
    }

    /// <summary>One fire module: squeeze 1×1 → Relu → (expand 1×1 → Relu, expand 3×3 pad 1 → Relu) → Concat.</summary>
    private static byte[] Fire(int h, int w, int c, int s, int e1, int e3)
    {
        var rng = new Random(5);
        Tensor Random(params int[] dims)
        {
            var data = new float[dims.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
            return Tensor.FromArray(data, dims);
        }
        var inits = new Dictionary<string, Tensor>
        {
            ["ws"] = Random(s, c, 1, 1), ["bs"] = Random(s), ["w1"] = Random(e1, s, 1, 1), ["b1"] = Random(e1),
            ["w3"] = Random(e3, s, 3, 3), ["b3"] = Random(e3),
        };
        var nodes = new List<Node>
        {
            new("Conv", ["x", "ws", "bs"], ["sq"]), new("Relu", ["sq"], ["sr"]),
            new("Conv", ["sr", "w1", "b1"], ["a"]), new("Relu", ["a"], ["ar"]),
            new("Conv", ["sr", "w3", "b3"], ["b"], [IR.Attribute.Ints("pads", [1, 1, 1, 1])]), new("Relu", ["b"], ["br"]),
            new("Concat", ["ar", "br"], ["y"], [IR.Attribute.Int("axis", 1)]),
        };
        var g = new Graph("fire", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(1, c, h, w)))], [new ValueInfo("y", null)], nodes, inits);
        return OnnxExporter.ToBytes(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }
}
