using Loom.IR;

namespace Loom.Tests.Kernels;

/// <summary>
/// A fully connected layer whose weights are computed once from constants on the first run (as the light models build theirs
/// with ConstantOfShape; too big to fold at load): Gemm packs them on its first run with more than one row, and every run
/// after gives the bits of the same layer with the weights as an initializer (packed at session creation), and values close
/// to a float64 product. Batch 1 reads the weights in place.
/// </summary>
public sealed class GemmComputedOnceWeightsTests
{
    private const int K = 300, N = 70; // B: 84 KB, over the 64 KiB folding cap

    /// <summary>y[m, N] = x[m, K] · Bᵀ + c, with B = r + ConstantOfShape(0) (computed once) or r itself (an initializer).</summary>
    private static Model FullyConnected(float[] r, float[] c, bool computedOnce)
    {
        var x = new TensorType(DataType.Float, new Shape([Dim.Symbol("m"), K]));
        var inits = new Dictionary<string, Tensor> { ["r"] = Tensor.FromArray(r, N, K), ["c"] = Tensor.FromArray(c, N) };
        var nodes = new List<Node>();
        if (computedOnce)
        {
            inits["s"] = Tensor.FromArray(new long[] { N, K }, 2);
            nodes.Add(new Node("ConstantOfShape", ["s"], ["z"], [IR.Attribute.Tensor("value", Tensor.FromArray(new[] { 0f }, 1))]));
            nodes.Add(new Node("Add", ["r", "z"], ["b"]));
        }
        nodes.Add(new Node("Gemm", ["x", computedOnce ? "b" : "r", "c"], ["y"], [IR.Attribute.Int("transB", 1)]));
        var g = new Graph("fc", [new ValueInfo("x", x)], [new ValueInfo("y", null)], nodes, inits);
        return new Model(g, new Dictionary<string, int> { [""] = 17 });
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(2, 2)]
    [InlineData(9, 2)]
    public void PackedOnFirstRunSameBitsAsAnInitializer(int m, int threads)
    {
        var r = Random(N * K, 1);
        var c = Random(N, 2);
        var options = new LoomSessionOptions { IntraOpThreads = threads, ExecutionMode = ExecutionMode.Sequential };
        using var once = LoomSession.Create(FullyConnected(r, c, computedOnce: true), options);
        using var initializer = LoomSession.Create(FullyConnected(r, c, computedOnce: false), options);
        Assert.Contains(once.Model.Graph.Nodes, n => n.OpType == "ConstantOfShape"); // not folded at load
        var xs = Random(m * K, 3);
        var x = Tensor.FromArray(xs, m, K);
        using var expected = initializer.Run(("x", x));
        var want = expected.Tensor("y").ToArray<float>();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < N; j++)
            {
                double s = c[j];
                for (int p = 0; p < K; p++) s += (double)xs[i * K + p] * r[j * K + p];
                Assert.True(Math.Abs(s - want[i * N + j]) <= 1e-4 * (1 + Math.Abs(s)), $"y[{i},{j}] = {want[i * N + j]}, float64 {s}");
            }
        for (int run = 0; run < 3; run++) // the first run packs, later ones reuse the packed weights
        {
            using var actual = once.Run(("x", x));
            Assert.Equal(want, actual.Tensor("y").ToArray<float>());
        }
    }
}
