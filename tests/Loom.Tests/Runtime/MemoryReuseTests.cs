using Loom.Import.Onnx;
using Loom.IR;

namespace Loom.Tests.Runtime;

/// <summary>Buffers are reused across nodes and runs without ever handing out memory that is still in use.</summary>
public sealed class MemoryReuseTests
{
    /// <summary>y = Relu(x)·(Relu(x)+w) chain of 12 steps; also echoes x and w as outputs.</summary>
    private static LoomSession Session()
    {
        var n = Dim.Symbol("n");
        var nodes = new List<Node> { new("Relu", ["x"], ["h0"]) };
        for (int i = 0; i < 12; i++)
            nodes.Add(new Node(i % 2 == 0 ? "Add" : "Mul", [$"h{i}", i % 3 == 0 ? "w" : "x"], [$"h{i + 1}"]));
        nodes.Add(new Node("Identity", ["h12"], ["y"]));
        nodes.Add(new Node("Identity", ["x"], ["echo_x"]));
        nodes.Add(new Node("Identity", ["w"], ["echo_w"]));
        var g = new Graph("g", [new ValueInfo("x", new TensorType(DataType.Float, new Shape([n])))],
            [new ValueInfo("y", null), new ValueInfo("echo_x", null), new ValueInfo("echo_w", null)], nodes,
            new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(new float[] { 0.5f }, 1) });
        return LoomSession.Load(OnnxExporter.ToBytes(new Model(g, new Dictionary<string, int> { [""] = 17 })));
    }

    private static float[] Expected(float[] x)
    {
        var h = x.Select(v => Math.Max(v, 0f)).ToArray();
        for (int i = 0; i < 12; i++)
            for (int k = 0; k < h.Length; k++)
            {
                float other = i % 3 == 0 ? 0.5f : x[k];
                h[k] = i % 2 == 0 ? h[k] + other : h[k] * other;
            }
        return h;
    }

    private static float[] Input(int seed, int n) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray(); }

    [Fact]
    public void RepeatedRunsAtChangingSizesStayCorrect()
    {
        using var s = Session();
        for (int run = 0; run < 40; run++)
        {
            var x = Input(run, 1 + run * 37 % 300);
            using var r = s.Run(("x", Tensor.FromArray(x, x.Length)));
            Assert.Equal(Expected(x), r.Tensor("y").ToArray<float>());
        }
    }

    [Fact]
    public void DisposingAResultNeverRecyclesTheCallersInputOrTheModelsWeights()
    {
        using var s = Session();
        var x = Input(1, 100);
        var xCopy = (float[])x.Clone();
        var first = s.Run(("x", Tensor.FromArray(x, x.Length)));
        var w = first.Tensor("echo_w");
        first.Dispose();
        for (int run = 0; run < 5; run++)
        {
            using var r = s.Run(("x", Tensor.FromArray(Input(run + 10, 100), 100)));
        }
        Assert.Equal(xCopy, x);
        Assert.Equal(new[] { 0.5f }, w.ToArray<float>());
    }

    [Fact]
    public void UndisposedResultsKeepTheirValues()
    {
        using var s = Session();
        var kept = new List<(float[] X, RunResult R)>();
        for (int run = 0; run < 10; run++)
        {
            var x = Input(run, 64);
            kept.Add((x, s.Run(("x", Tensor.FromArray(x, 64)))));
        }
        foreach (var (x, r) in kept) Assert.Equal(Expected(x), r.Tensor("y").ToArray<float>());
    }

    [Fact]
    public void ConcurrentRunsWithReuseStayCorrect()
    {
        using var s = Session();
        Parallel.For(0, 200, i =>
        {
            var x = Input(i, 1 + i % 50);
            using var r = s.Run(("x", Tensor.FromArray(x, x.Length)));
            Assert.Equal(Expected(x), r.Tensor("y").ToArray<float>());
        });
    }
}
