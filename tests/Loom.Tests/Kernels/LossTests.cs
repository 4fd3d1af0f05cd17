using Loom.Tests.Support;
using A = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: reductions, weights, ignore_index.</summary>
public sealed class LossTests
{
    private static readonly Tensor LogProb = OpTester.F([-1, -2, -3, -0.5f, -1.5f, -2.5f], 2, 3);
    private static readonly Tensor Target = OpTester.L([2, 0], 2);
    private static readonly Tensor Weight = OpTester.F([1, 2, 3], 3);

    private static Tensor Nll(string reduction, Tensor? weight, long? ignoreIndex = null, Tensor? x = null, Tensor? target = null)
    {
        var attrs = new List<A> { A.String("reduction", reduction) };
        if (ignoreIndex is { } ii) attrs.Add(A.Int("ignore_index", ii));
        return OpTester.Run("NegativeLogLikelihoodLoss", attrs, 1, 22, "", x ?? LogProb, target ?? Target, weight)[0];
    }

    [Fact]
    public void WeightedReductions()
    {
        OpTester.AssertClose([9, 0.5f], Nll("none", Weight));
        OpTester.AssertClose([9.5f], Nll("sum", Weight));
        OpTester.AssertClose([9.5f / 4], Nll("mean", Weight)); // divided by the weights applied, 3 + 1
        OpTester.AssertClose([(3 + 0.5f) / 2], Nll("mean", null));
    }

    [Fact]
    public void IgnoredSamplesCostNothingAndLeaveTheMean()
    {
        OpTester.AssertClose([0, 0.5f], Nll("none", Weight, ignoreIndex: 2));
        OpTester.AssertClose([0.5f], Nll("mean", Weight, ignoreIndex: 2));
        OpTester.AssertClose([0.5f], Nll("mean", null, ignoreIndex: 2));
        var allIgnored = Nll("mean", null, ignoreIndex: 0, target: OpTester.L([0, 0], 2));
        Assert.True(float.IsNaN(allIgnored.ToArray<float>()[0]));
    }

    [Fact]
    public void TrailingDimensions()
    {
        // [N=1, C=2, d=2]: class 0 scores [-1, -2], class 1 scores [-3, -4]; targets [1, 0].
        var y = Nll("none", null, x: OpTester.F([-1, -2, -3, -4], 1, 2, 2), target: OpTester.L([1, 0], 1, 2));
        Assert.Equal([1, 2], y.Shape.ToArray());
        OpTester.AssertClose([3, 2], y);
    }

    [Fact]
    public void TargetOutOfRangeIsAnError()
    {
        Assert.ThrowsAny<LoomException>(() => Nll("sum", null, target: OpTester.L([3, 0], 2)));
    }

    [Fact]
    public void SoftmaxCrossEntropyWithLogProb()
    {
        var r = OpTester.Run("SoftmaxCrossEntropyLoss", [A.String("reduction", "mean")], 2, 13, "",
            OpTester.F([0, MathF.Log(3)], 1, 2), OpTester.L([1], 1));
        OpTester.AssertClose([-MathF.Log(0.75f)], r[0]);
        Assert.Equal(0, r[0].Rank);
        OpTester.AssertClose([MathF.Log(0.25f), MathF.Log(0.75f)], r[1]);
    }
}
