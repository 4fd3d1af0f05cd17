using Loom.Kernels.Common;
using Loom.Runtime.Threading;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// The product stored transposed (<see cref="GemmTransposedOutput"/>, the AVX-512 set's 8×32 tile transposed in registers):
/// Y[j, i] = act(Σ_p X[p, i]·W[j, p] + bias[j] + residual[j, i]) against the definition in double, for 1–17 positions (full
/// tiles, row tails, both), channel counts that leave a partial column tile, one and several depth blocks, every epilogue
/// kind the tile applies itself and Sigmoid (applied after the store), and bit for bit the same at 1, 2 and 3 threads. On a
/// machine or ISA setting without AVX-512 there is no transposed kernel and the few-positions convolutions keep the scratch
/// path, which <see cref="ConvFewPositionsSplitTests"/> and <see cref="ConvFastPathTests"/> cover on every set.
/// </summary>
public sealed unsafe class GemmTransposedOutputTests
{
    [Fact]
    public void OnlyTheAvx512SetStoresTransposed()
    {
        foreach (var ks in GemmKernelSet.Supported)
            Assert.Equal(ks.Is512, GemmTransposedOutput.Supported(ks));
    }

    [Fact]
    public void MatchesTheDefinitionForEveryTailAndThreadCount()
    {
        var ks = GemmKernelSet.Avx512;
        if (ks is null) return;
        using var pool2 = new WorkerPool(2);
        using var pool3 = new WorkerPool(3);
        var activations = new[]
        {
            new FusedActivation(ActivationKind.Relu), new FusedActivation(ActivationKind.LeakyRelu, 0.1f), FusedActivation.None,
            new FusedActivation(ActivationKind.Sigmoid),
        };
        int seed = 900;
        foreach (var (m, k) in new[] { (72, 37), (64, 256), (40, 300), (96, 513) })
            for (int n = 1; n <= 17; n++)
            {
                var act = activations[n % activations.Length];
                bool withResidual = n % 2 == 1, withBias = n % 3 != 0;
                var x = Random(k * n, ++seed);
                var w = Random(m * k, seed + 1);
                var bias = Random(m, seed + 2);
                var res = Random(m * n, seed + 3);
                var expected = new double[m * n];
                for (int j = 0; j < m; j++)
                    for (int i = 0; i < n; i++)
                    {
                        double s = 0;
                        for (int p = 0; p < k; p++) s += (double)x[p * n + i] * w[j * k + p];
                        if (withBias) s += bias[j];
                        if (withResidual) s += res[j * n + i];
                        expected[j * n + i] = act.Kind switch
                        {
                            ActivationKind.Relu => Math.Max(s, 0),
                            ActivationKind.LeakyRelu => s >= 0 ? s : 0.1 * s,
                            ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-s)),
                            _ => s,
                        };
                    }
                fixed (float* px = x, pw = w, pb = bias, pr = res)
                {
                    var weights = new GemmPackedB(ks, k, m, pw, k, transposed: true);
                    var ep = new GemmTransposedOutput.Epilogue(withBias ? pb : null, withResidual ? pr : null, n, act);
                    float* xp = px;
                    float[] Run(WorkerPool? pool)
                    {
                        var y = new float[m * n];
                        Array.Fill(y, float.NaN);
                        fixed (float* py = y)
                            GemmTransposedOutput.Multiply(ks, n, m, k, new GemmDenseA(xp, n, transposed: true, 1), weights.AsOperand(), py, n, ep, pool);
                        return y;
                    }
                    var one = Run(null);
                    string what = $"{n} positions, {m}x{k}, {act.Kind}, bias {withBias}, residual {withResidual}";
                    AssertNear(expected, one, what);
                    Assert.True(one.AsSpan().SequenceEqual(Run(pool2)), what + ": 2 threads differ from one");
                    Assert.True(one.AsSpan().SequenceEqual(Run(pool3)), what + ": 3 threads differ from one");
                }
            }
    }
}
