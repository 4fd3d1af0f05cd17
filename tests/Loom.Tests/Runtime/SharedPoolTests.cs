using Loom.IR;
using Loom.Runtime.Threading;
using Loom.Tests.Support;

namespace Loom.Tests.Runtime;

/// <summary>
/// <see cref="LoomSessionOptions.SharedPool"/>: several sessions on one pool give the results of sessions with pools of
/// their own (checked against the reference kernels of an unoptimized session), from one thread and from several at
/// once (a run that finds the pool busy runs on its own thread); disposing a session leaves the shared pool working (a
/// disposed pool refuses work);
/// a pool of the wrong size is refused.
/// </summary>
public sealed class SharedPoolTests
{
    private static Model Net(int seed)
    {
        var rng = new Random(seed);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var nodes = new List<Node>
        {
            new("Conv", ["x", "w", "b"], ["c"], [IR.Attribute.Ints("pads", [1, 1, 1, 1])]),
            new("Relu", ["c"], ["r"]),
            new("MaxPool", ["r"], ["y"], [IR.Attribute.Ints("kernel_shape", [3, 3]), IR.Attribute.Ints("pads", [1, 1, 1, 1])]),
        };
        var inits = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(R(32 * 16 * 9), 32, 16, 3, 3), ["b"] = Tensor.FromArray(R(32), 32) };
        var g = new Graph("net", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Of(1, 16, 20, 20)))], [new ValueInfo("y", null)], nodes, inits);
        return Inference.ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    private static Tensor Input(int seed) =>
        Tensor.FromArray(Enumerable.Range(0, 16 * 400).Select(i => (float)Math.Sin(i * 0.37 + seed)).ToArray(), 1, 16, 20, 20);

    [Theory]
    [InlineData(ExecutionMode.Sequential)]
    [InlineData(ExecutionMode.Parallel)]
    public void SessionsOnOnePoolMatchTheReference(ExecutionMode mode)
    {
        using var pool = new WorkerPool(2);
        var models = new[] { Net(1), Net(2) };
        var references = models.Select(m => LoomSession.Create(m, new LoomSessionOptions { OptimizationLevel = 0, ExecutionMode = ExecutionMode.Sequential, IntraOpThreads = 1 })).ToList();
        var shared = models.Select(m => LoomSession.Create(m, new LoomSessionOptions { ExecutionMode = mode, IntraOpThreads = 2, SharedPool = pool })).ToList();
        try
        {
            void Check(int s, int seed)
            {
                using var expected = references[s].Run(("x", Input(seed)));
                using var actual = shared[s].Run(("x", Input(seed)));
                OpTester.AssertClose(expected.Tensor("y").ToArray<float>(), actual.Tensor("y"), 1e-4f);
            }
            for (int round = 0; round < 3; round++) { Check(0, round); Check(1, round); }
            Parallel.For(0, 8, i => Check(i % 2, i)); // both sessions at once: one of them finds the pool busy
            shared[0].Dispose();
            Check(1, 9); // the pool outlives a session that used it
        }
        finally
        {
            foreach (var s in references.Concat(shared)) s.Dispose();
        }
    }

    [Fact]
    public void APoolOfTheWrongSizeIsRefused()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<InputException>(() => LoomSession.Create(Net(1), new LoomSessionOptions { IntraOpThreads = 3, SharedPool = pool }));
        Assert.Contains("shared pool has 2 threads", e.Message);
    }
}
