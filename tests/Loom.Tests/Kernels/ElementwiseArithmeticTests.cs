using static Loom.Tests.Kernels.ElementwiseTestData;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class ElementwiseArithmeticTests
{
    [Fact]
    public void AddBroadcastsRowAndColumn()
    {
        var y = Run("Add", null, F([1f, 2f], 2, 1), F([10f, 20f, 30f], 1, 3))[0];
        Assert.Equal([2, 3], y.Shape.ToArray());
        Close([11, 21, 31, 12, 22, 32], y);
    }

    [Fact]
    public void AddBroadcastsTrailingAndMiddleAxes()
    {
        Close([11, 22, 33, 14, 25, 36], Run("Add", null, F([1f, 2f, 3f, 4f, 5f, 6f], 2, 3), F([10f, 20f, 30f], 3))[0]);
        // [2,1,2] + [3,1]: output [2,3,2].
        var y = Run("Add", null, F([1f, 2f, 3f, 4f], 2, 1, 2), F([10f, 20f, 30f], 3, 1))[0];
        Assert.Equal([2, 3, 2], y.Shape.ToArray());
        Close([11, 12, 21, 22, 31, 32, 13, 14, 23, 24, 33, 34], y);
    }

    [Fact]
    public void ScalarAndEmptyOperands()
    {
        Close([5, 6], Run("Add", null, Tensor.Scalar(4f), F([1f, 2f], 2))[0]);
        var e = Run("Mul", null, F([], 0, 2), F([3f, 4f], 2))[0];
        Assert.Equal([0, 2], e.Shape.ToArray());
    }

    [Fact]
    public void IntegerArithmeticWraps()
    {
        Equal(new byte[] { 4, 246 }, Run("Add", null, T(new byte[] { 250, 0 }, 2), T(new byte[] { 10, 246 }, 2))[0]);
        Equal(new byte[] { 255 }, Run("Sub", null, T(new byte[] { 0 }, 1), T(new byte[] { 1 }, 1))[0]);
        Equal(new[] { int.MinValue }, Run("Mul", null, T(new[] { 1 << 30 }, 1), T(new[] { 2 }, 1))[0]);
    }

    [Fact]
    public void IntegerDivisionTruncatesTowardZero() =>
        Equal(new[] { 3, -3, -3, 3 }, Run("Div", null, T(new[] { 7, -7, 7, -7 }, 4), T(new[] { 2, 2, -2, -2 }, 4))[0]);

    [Fact]
    public void IntegerDivisionByZeroIsAnError()
    {
        var e = Assert.ThrowsAny<LoomException>(() => Run("Div", null, T(new long[] { 1 }, 1), T(new long[] { 0 }, 1)));
        Assert.Contains("division by zero", e.Message);
    }

    [Fact]
    public void FloatDivisionByZeroIsInfinite() =>
        Close([double.PositiveInfinity, double.NegativeInfinity, double.NaN], Run("Div", null, F([1f, -1f, 0f], 3), F([0f, 0f, 0f], 3))[0]);

    [Fact]
    public void ModTakesTheDivisorsSignUnlessFmod()
    {
        var a = T(new[] { 7, -7, 7, -7 }, 4);
        var b = T(new[] { 3, 3, -3, -3 }, 4);
        Equal(new[] { 1, 2, -2, -1 }, Run("Mod", null, a, b)[0]);
        Equal(new[] { 1, -1, 1, -1 }, Run("Mod", Attrs(Attr.Int("fmod", 1)), a, b)[0]);
        Close([1.5, -1.5, 1.5], Run("Mod", Attrs(Attr.Int("fmod", 1)), F([5.5f, -5.5f, 5.5f], 3), F([2f, 2f, -2f], 3))[0]);
    }

    [Fact]
    public void SumFoldsThreeBroadcastInputs()
    {
        var y = Run("Sum", null, F([1f, 2f], 2), F([10f, 20f], 2, 1), Tensor.Scalar(100f))[0];
        Assert.Equal([2, 2], y.Shape.ToArray());
        Close([111, 112, 121, 122], y);
    }

    [Fact]
    public void MeanOfOneTwoAndHalfInputs()
    {
        Close([1, 2], Run("Mean", null, F([1f, 2f], 2))[0]);
        Close([2, 3], Run("Mean", null, F([1f, 2f], 2), F([3f, 4f], 2))[0]);
        Close([2, 3], Run("Mean", null, T(new[] { 1.0, 2.0 }, 2), T(new[] { 3.0, 4.0 }, 2))[0]);
        var h = Run("Mean", null, Halves([1f, 2f], 2), Halves([2f, 2f], 2), Halves([3f, 5f], 2))[0];
        Assert.Equal(DataType.Float16, h.DataType);
        Close([2, 3], h);
    }

    [Fact]
    public void MaxMinPropagateNaNAndHandleIntegers()
    {
        Close([3, double.NaN], Run("Max", null, F([1f, float.NaN], 2), F([3f, 0f], 2))[0]);
        Close([1, double.NaN], Run("Min", null, F([1f, 5f], 2), F([3f, float.NaN], 2))[0]);
        Equal(new long[] { 9, -1 }, Run("Max", null, T(new long[] { 1, -5 }, 2), T(new long[] { 9, -7 }, 2), T(new long[] { -3, -1 }, 2))[0]);
        Equal(new ulong[] { 1, 2 }, Run("Min", null, T(new ulong[] { 1, ulong.MaxValue }, 2), T(new ulong[] { 7, 2 }, 2))[0]);
        Close([4, 5], Run("Max", null, F([4f, 5f], 2))[0]);
    }

    [Fact]
    public void Float16ArithmeticRoundsEachResult()
    {
        // 2048 + 1 is not a float16 (step 2 above 2048): rounds to even, 2048.
        Equal(new[] { (Half)2048f, (Half)1.25f }, Run("Add", null, Halves([2048f, 1f], 2), Halves([1f, 0.25f], 2))[0]);
    }

    [Fact]
    public void LegacyBroadcastAlignsBAtAxis()
    {
        // Opset 6: A [2,3,2], B [3] with broadcast=1, axis=1 -> B varies along axis 1.
        var a = F(Enumerable.Repeat(0f, 12).ToArray(), 2, 3, 2);
        var y = Run("Add", 6, Attrs(Attr.Int("broadcast", 1), Attr.Int("axis", 1)), a, F([1f, 2f, 3f], 3));
        Assert.Equal([2, 3, 2], y.Shape.ToArray());
        Close([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3], y);
    }

    [Fact]
    public void MismatchedTypesAndShapesAreErrors()
    {
        Assert.ThrowsAny<LoomException>(() => Run("Add", null, F([1f, 2f], 2), F([1f, 2f, 3f], 3)));
        Assert.ThrowsAny<LoomException>(() => Run("Add", null, F([1f], 1), T(new[] { 1.0 }, 1)));
    }
}
