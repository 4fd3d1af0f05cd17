using Loom.Tests.Support;
using A = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>CumSum: axis input, exclusive and reverse, integer types.</summary>
public sealed class CumSumTests
{
    private static Tensor Run(Tensor x, long axis, int exclusive = 0, int reverse = 0) =>
        OpTester.Run("CumSum", [A.Int("exclusive", exclusive), A.Int("reverse", reverse)], x, Tensor.Scalar(axis))[0];

    [Fact]
    public void AllFourModesOnOneRow()
    {
        var x = OpTester.F([1, 2, 3, 4], 4);
        OpTester.AssertClose([1, 3, 6, 10], Run(x, 0));
        OpTester.AssertClose([0, 1, 3, 6], Run(x, 0, exclusive: 1));
        OpTester.AssertClose([10, 9, 7, 4], Run(x, 0, reverse: 1));
        OpTester.AssertClose([9, 7, 4, 0], Run(x, 0, exclusive: 1, reverse: 1));
    }

    [Fact]
    public void AlongTheOuterAxisOfAMatrix()
    {
        var x = Tensor.FromArray(new[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal([1, 2, 3, 5, 7, 9], Run(x, 0).ToArray<int>());
        Assert.Equal([1, 3, 6, 4, 9, 15], Run(x, -1).ToArray<int>());
        var axis32 = OpTester.Run("CumSum", null, x, Tensor.FromArray(new[] { 1 }, 1))[0];
        Assert.Equal([1, 3, 6, 4, 9, 15], axis32.ToArray<int>());
    }

    [Fact]
    public void Int64IsExact()
    {
        long big = 1L << 60;
        Assert.Equal([big, big + 1], Run(Tensor.FromArray(new[] { big, 1L }, 2), 0).ToArray<long>());
    }
}
