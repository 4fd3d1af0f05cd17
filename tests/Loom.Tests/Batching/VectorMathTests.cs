using System.Runtime.Intrinsics;
using Loom.Kernels.Batched;

namespace Loom.Tests.BatchingTests;

/// <summary>The fused kernels' 16-lane exp, logistic and tanh against double-precision Math over a sweep of inputs.</summary>
public class VectorMathTests
{
    [Fact]
    public void ExpLogisticAndTanhAreAccurateToAFewUlp()
    {
        var xs = new List<float>();
        for (double x = -30; x <= 30; x += 0.0137) xs.Add((float)x);
        xs.AddRange([0f, 1e-8f, -1e-8f, 1e-4f, -3e-3f, 0.2999f, 0.3001f, -0.3001f, 100f, -100f]);
        while (xs.Count % 16 != 0) xs.Add(0.5f);
        var a = xs.ToArray();
        for (int i = 0; i < a.Length; i += 16)
        {
            var v = Vector512.Create(a, i);
            var e = VectorMath.Exp(v); var s = VectorMath.Sigmoid(v); var t = VectorMath.Tanh(v);
            for (int k = 0; k < 16; k++)
            {
                double x = a[i + k];
                if (Math.Abs(x) < 80) Assert.True(Math.Abs(e[k] - Math.Exp(x)) <= 4e-7 * Math.Exp(x), $"exp({x}) = {e[k]}");
                double sig = 1 / (1 + Math.Exp(-x));
                Assert.True(Math.Abs(s[k] - sig) <= 4e-7 * sig + 1e-30, $"sigmoid({x}) = {s[k]}, expected {sig}");
                double th = Math.Tanh(x);
                Assert.True(Math.Abs(t[k] - th) <= 4e-7 * Math.Abs(th) + 1e-30, $"tanh({x}) = {t[k]}, expected {th}");
            }
        }
    }
}
