using Loom.IR;
using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class ShapeReshapeTests
{
    private static readonly float[] Six = [0, 1, 2, 3, 4, 5];

    [Fact]
    public void ReshapeResolvesZeroAndMinusOne()
    {
        var y = OpTester.Run("Reshape", null, F(new float[24], 2, 3, 4), L([0, -1], 2))[0];
        Assert.Equal([2, 12], y.Shape.ToArray());
    }

    [Fact]
    public void ReshapeAllowZeroKeepsZero()
    {
        var y = OpTester.Run("Reshape", [Attr.Int("allowzero", 1)], F([], 0, 3), L([3, 0], 2))[0];
        Assert.Equal([3, 0], y.Shape.ToArray());
    }

    [Fact]
    public void ReshapeOpset4TakesShapeAttribute()
    {
        var y = OpTester.Run("Reshape", [Attr.Ints("shape", [3, -1])], 1, 4, "", F(Six, 2, 3))[0];
        Assert.Equal([3, 2], y.Shape.ToArray());
    }

    [Fact]
    public void ReshapeRejectsWrongElementCount()
    {
        var e = Assert.ThrowsAny<LoomException>(() => OpTester.Run("Reshape", null, F(Six, 2, 3), L([4, -1], 2)));
        Assert.Contains("cannot reshape", e.Message);
    }

    [Fact]
    public void ReshapeToScalarAndStrings()
    {
        var y = OpTester.Run("Reshape", null, Tensor.FromArray(new[] { "a" }, 1, 1), L([], 0))[0];
        Assert.Equal(0, y.Rank);
        Assert.Equal("a", y.ToArray<string>()[0]);
    }

    [Theory]
    [InlineData(0, 1, 24)]
    [InlineData(2, 6, 4)]
    [InlineData(-1, 6, 4)]
    [InlineData(3, 24, 1)]
    public void FlattenSplitsAtAxis(int axis, int outer, int inner)
    {
        var y = OpTester.Run("Flatten", [Attr.Int("axis", axis)], F(new float[24], 2, 3, 4))[0];
        Assert.Equal([outer, inner], y.Shape.ToArray());
    }

    [Fact]
    public void SqueezeWithNegativeAxisAndDefault()
    {
        var x = F(Six, 1, 2, 1, 3);
        Assert.Equal([1, 2, 3], OpTester.Run("Squeeze", null, x, L([-2], 1))[0].Shape.ToArray());
        Assert.Equal([2, 3], OpTester.Run("Squeeze", null, x)[0].Shape.ToArray());
        Assert.ThrowsAny<LoomException>(() => OpTester.Run("Squeeze", null, x, L([1], 1)));
    }

    [Fact]
    public void SqueezeOpset11TakesAxesAttribute()
    {
        var y = OpTester.Run("Squeeze", [Attr.Ints("axes", [0])], 1, 11, "", F(Six, 1, 6))[0];
        Assert.Equal([6], y.Shape.ToArray());
    }

    [Fact]
    public void UnsqueezeUnsortedNegativeAxes()
    {
        var y = OpTester.Run("Unsqueeze", null, F(Six, 2, 3), L([-1, 0], 2))[0];
        Assert.Equal([1, 2, 3, 1], y.Shape.ToArray());
        Assert.Equal(Six, y.ToArray<float>());
    }

    [Fact]
    public void UnsqueezeScalar()
    {
        var y = OpTester.Run("Unsqueeze", null, Tensor.Scalar(true), L([0], 1))[0];
        Assert.Equal([1], y.Shape.ToArray());
        Assert.True(y.ToArray<bool>()[0]);
    }

    [Theory]
    [InlineData(0, long.MaxValue, new long[] { 2, 3, 4 })]
    [InlineData(-1, long.MaxValue, new long[] { 4 })]
    [InlineData(1, -1, new long[] { 3 })]
    [InlineData(-10, 10, new long[] { 2, 3, 4 })]
    [InlineData(2, 1, new long[0])]
    public void ShapeStartEndClamp(long start, long end, long[] expected)
    {
        var attrs = new List<Attr> { Attr.Int("start", start) };
        if (end != long.MaxValue) attrs.Add(Attr.Int("end", end));
        var y = OpTester.Run("Shape", attrs, F(new float[24], 2, 3, 4))[0];
        Assert.Equal(expected, y.ToArray<long>());
    }

    [Fact]
    public void SizeOfEmptyAndScalar()
    {
        Assert.Equal(0L, OpTester.Run("Size", null, F([], 2, 0))[0].ToArray<long>()[0]);
        Assert.Equal(1L, OpTester.Run("Size", null, Tensor.Scalar(1.5f))[0].ToArray<long>()[0]);
    }
}
