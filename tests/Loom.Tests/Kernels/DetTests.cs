using Loom.Tests.Support;

namespace Loom.Tests.Kernels;

/// <summary>Det: pivoting, row-swap sign, singular and batched matrices.</summary>
public sealed class DetTests
{
    [Fact]
    public void NeedsPivotingAndCountsSwaps()
    {
        // [[0, 1], [2, 3]]: det = -2 (a zero first pivot forces a swap).
        OpTester.AssertClose([-2], OpTester.Run("Det", null, OpTester.F([0, 1, 2, 3], 2, 2))[0]);
    }

    [Fact]
    public void BatchedWithASingularMatrix()
    {
        var x = OpTester.F([2, 0, 0, 0, 3, 0, 0, 0, 4, 1, 2, 3, 2, 4, 6, 1, 0, 1], 2, 3, 3);
        var y = OpTester.Run("Det", null, x)[0];
        Assert.Equal([2], y.Shape.ToArray());
        OpTester.AssertClose([24, 0], y);
    }

    [Fact]
    public void GeneralThreeByThree()
    {
        // det [[6, 1, 1], [4, -2, 5], [2, 8, 7]] = 6(-14-40) - 1(28-10) + 1(32+4) = -306
        OpTester.AssertClose([-306], OpTester.Run("Det", null, OpTester.F([6, 1, 1, 4, -2, 5, 2, 8, 7], 3, 3))[0], 1e-5f);
    }
}
