using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class ShapeGeneratorTests
{
    [Fact]
    public void ExpandBroadcastsBothWays()
    {
        var y = OpTester.Run("Expand", null, F([1, 2, 3], 3, 1), L([2, 1, 2], 3))[0];
        Assert.Equal([2, 3, 2], y.Shape.ToArray());
        Assert.Equal([1f, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3], y.ToArray<float>());
    }

    [Fact]
    public void ExpandRejectsIncompatible() =>
        Assert.ThrowsAny<LoomException>(() => OpTester.Run("Expand", null, F([1, 2, 3], 3), L([2], 1)));

    [Fact]
    public void TileRepeatsEachAxis()
    {
        var y = OpTester.Run("Tile", null, F([1, 2, 3, 4], 2, 2), L([2, 1], 2))[0];
        Assert.Equal([4, 2], y.Shape.ToArray());
        Assert.Equal([1f, 2, 3, 4, 1, 2, 3, 4], y.ToArray<float>());
        var z = OpTester.Run("Tile", null, F([1, 2], 2), L([3], 1))[0];
        Assert.Equal([1f, 2, 1, 2, 1, 2], z.ToArray<float>());
    }

    [Fact]
    public void TileOpset1TilesOneAxis()
    {
        var y = OpTester.Run("Tile", null, 1, 5, "", F([1, 2, 3, 4], 2, 2), Tensor.Scalar(2L), Tensor.Scalar(1L))[0];
        Assert.Equal([2, 4], y.Shape.ToArray());
        Assert.Equal([1f, 2, 1, 2, 3, 4, 3, 4], y.ToArray<float>());
    }

    [Fact]
    public void ConstantOfShapeValueDtype()
    {
        var y = OpTester.Run("ConstantOfShape", [Attr.Tensor("value", Tensor.FromArray(new long[] { 7 }, 1))], L([2, 2], 2))[0];
        Assert.Equal(DataType.Int64, y.DataType);
        Assert.Equal([7L, 7, 7, 7], y.ToArray<long>());
        Assert.Equal([0f, 0], OpTester.Run("ConstantOfShape", null, L([2], 1))[0].ToArray<float>());
    }

    [Fact]
    public void EyeLikeOffDiagonalWithDtype()
    {
        var y = OpTester.Run("EyeLike", [Attr.Int("k", -1), Attr.Int("dtype", (int)DataType.Int32)], F(new float[6], 3, 2))[0];
        Assert.Equal(DataType.Int32, y.DataType);
        Assert.Equal([0, 0, 1, 0, 0, 1], y.ToArray<int>());
    }

    [Fact]
    public void RangeCountsAndAccumulates()
    {
        Assert.Equal([10L, 8, 6], OpTester.Run("Range", null, Tensor.Scalar(10L), Tensor.Scalar(4L), Tensor.Scalar(-2L))[0].ToArray<long>());
        Assert.Empty(OpTester.Run("Range", null, Tensor.Scalar(1), Tensor.Scalar(1), Tensor.Scalar(1))[0].ToArray<int>());
        Assert.Equal([0f, 0.5f, 1f], OpTester.Run("Range", null, Tensor.Scalar(0f), Tensor.Scalar(1.2f), Tensor.Scalar(0.5f))[0].ToArray<float>());
    }

    [Theory]
    [InlineData(1, 0, new float[] { 1, 2, 3, 0, 5, 6, 0, 0, 9 })]
    [InlineData(1, 1, new float[] { 0, 2, 3, 0, 0, 6, 0, 0, 0 })]
    [InlineData(0, 0, new float[] { 1, 0, 0, 4, 5, 0, 7, 8, 9 })]
    [InlineData(0, -1, new float[] { 0, 0, 0, 4, 0, 0, 7, 8, 0 })]
    public void TriluKeepsTriangle(int upper, long k, float[] expected)
    {
        var y = OpTester.Run("Trilu", [Attr.Int("upper", upper)], F([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3), Tensor.Scalar(k))[0];
        Assert.Equal(expected, y.ToArray<float>());
    }

    [Fact]
    public void OneHotAxisZeroNegativeAndOutOfRange()
    {
        // indices [-1, 1, 5] depth 3 axis 0 -> [3, 3]; 5 is out of range: all off.
        var y = OpTester.Run("OneHot", [Attr.Int("axis", 0)], L([-1, 1, 5], 3), Tensor.Scalar(3f), F([0, 1], 2))[0];
        Assert.Equal([3, 3], y.Shape.ToArray());
        Assert.Equal([0f, 0, 0, 0, 1, 0, 1, 0, 0], y.ToArray<float>());
    }
}
