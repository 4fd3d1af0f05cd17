using Loom.Tests.Support;
using A = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>Normalizations with hand-computed values.</summary>
public sealed class NormalizationTests
{
    private static readonly float Inv1 = 1 / MathF.Sqrt(1 + 1e-5f); // 1/sqrt(var + eps) for var = 1

    [Fact]
    public void LayerNormalizationWithStatistics()
    {
        var x = OpTester.F([1, 3, 2, 2], 2, 2);
        var r = OpTester.Run("LayerNormalization", null, 3, 17, "", x, OpTester.F([2, 1], 2), OpTester.F([0.5f, -0.5f], 2));
        OpTester.AssertClose([-2 * Inv1 + 0.5f, Inv1 - 0.5f, 0.5f, -0.5f], r[0]);
        Assert.Equal([2, 1], r[1].Shape.ToArray());
        OpTester.AssertClose([2, 2], r[1]);
        OpTester.AssertClose([Inv1, 1 / MathF.Sqrt(1e-5f)], r[2], 1e-4f);
    }

    [Fact]
    public void LayerNormalizationBroadcastsAScalePerRow()
    {
        // Scale [2, 1] is unidirectionally broadcastable to X [2, 2]: one factor per row, no bias.
        var x = OpTester.F([1, 3, 0, 4], 2, 2);
        var y = OpTester.Run("LayerNormalization", null, 1, 17, "", x, OpTester.F([1, 10], 2, 1))[0];
        float inv4 = 1 / MathF.Sqrt(4 + 1e-5f);
        OpTester.AssertClose([-Inv1, Inv1, -20 * inv4, 20 * inv4], y);
    }

    [Fact]
    public void LayerNormalizationOverTwoAxes()
    {
        var x = OpTester.F([1, 3, 1, 3], 1, 2, 2);
        var r = OpTester.Run("LayerNormalization", [A.Int("axis", 1)], 3, 17, "", x, OpTester.F([1, 1, 1, 1], 2, 2));
        OpTester.AssertClose([-Inv1, Inv1, -Inv1, Inv1], r[0]);
        Assert.Equal([1, 1, 1], r[1].Shape.ToArray());
    }

    [Fact]
    public void RmsNormalization()
    {
        var y = OpTester.Run("RMSNormalization", null, 1, 23, "", OpTester.F([3, 4], 1, 2), OpTester.F([1, 2], 2))[0];
        float rms = MathF.Sqrt(12.5f + 1e-5f);
        OpTester.AssertClose([3 / rms, 8 / rms], y);
    }

    [Fact]
    public void BatchNormalizationInference()
    {
        var x = OpTester.F([1, 2, 3, 4], 1, 2, 2);
        var y = OpTester.Run("BatchNormalization", [A.Float("epsilon", 0)], 1, 15, "", x,
            OpTester.F([1, 2], 2), OpTester.F([0, 1], 2), OpTester.F([1, 3], 2), OpTester.F([4, 1], 2))[0];
        OpTester.AssertClose([0, 0.5f, 1, 3], y);
    }

    [Fact]
    public void BatchNormalizationTrainingUsesBatchStatistics()
    {
        var x = OpTester.F([1, 2, 3, 4], 2, 1, 2);
        var r = OpTester.Run("BatchNormalization", [A.Float("epsilon", 0), A.Int("training_mode", 1)], 3, 15, "", x,
            OpTester.F([1], 1), OpTester.F([0], 1), OpTester.F([0], 1), OpTester.F([1], 1));
        float sd = MathF.Sqrt(1.25f);
        OpTester.AssertClose([-1.5f / sd, -0.5f / sd, 0.5f / sd, 1.5f / sd], r[0]);
        OpTester.AssertClose([0.25f], r[1]);
        OpTester.AssertClose([1.025f], r[2]);
    }

    [Fact]
    public void InstanceNormalization()
    {
        var x = OpTester.F([1, 3, 5, 5], 1, 2, 2);
        var y = OpTester.Run("InstanceNormalization", null, x, OpTester.F([2, 3], 2), OpTester.F([1, 1], 2))[0];
        OpTester.AssertClose([1 - 2 * Inv1, 1 + 2 * Inv1, 1, 1], y);
    }

    [Fact]
    public void GroupNormalizationParametersPerChannelFrom21AndPerGroupAt18()
    {
        var x = OpTester.F([1, 2, 3, 5], 1, 4, 1);
        var attrs = new[] { A.Int("num_groups", 2), A.Float("epsilon", 0) };
        var y21 = OpTester.Run("GroupNormalization", attrs, 1, 21, "", x, OpTester.F([1, 2, 3, 4], 4), OpTester.F([0, 0, 0, 1], 4))[0];
        OpTester.AssertClose([-1, 2, -3, 5], y21);
        var y18 = OpTester.Run("GroupNormalization", attrs, 1, 18, "", x, OpTester.F([1, 2], 2), OpTester.F([0, 1], 2))[0];
        OpTester.AssertClose([-1, 1, -1, 3], y18);
    }

    [Fact]
    public void LrnWindowIsClippedAndAsymmetricForEvenSizes()
    {
        var x = OpTester.F([1, 2, 3], 1, 3, 1, 1);
        var odd = OpTester.Run("LRN", [A.Int("size", 3), A.Float("alpha", 3), A.Float("beta", 1), A.Float("bias", 1)], x)[0];
        OpTester.AssertClose([1 / 6f, 2 / 15f, 3 / 14f], odd);
        var even = OpTester.Run("LRN", [A.Int("size", 2), A.Float("alpha", 2), A.Float("beta", 1), A.Float("bias", 1)], x)[0];
        OpTester.AssertClose([1 / 6f, 2 / 14f, 3 / 10f], even);
    }

    [Fact]
    public void MeanVarianceNormalizationPerChannel()
    {
        var y = OpTester.Run("MeanVarianceNormalization", null, OpTester.F([1, 3, 5, 7], 2, 1, 1, 2))[0];
        float sd = MathF.Sqrt(5);
        OpTester.AssertClose([-3 / sd, -1 / sd, 1 / sd, 3 / sd], y);
        var custom = OpTester.Run("MeanVarianceNormalization", [A.Ints("axes", [1])], OpTester.F([1, 3, 2, 2], 2, 2))[0];
        OpTester.AssertClose([-1, 1, 0, 0], custom);
    }
}
