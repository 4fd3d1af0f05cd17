using Loom.Kernels.Common;
using static Loom.Tests.Kernels.ElementwiseTestData;
using static Loom.Tests.Support.OpTester;

namespace Loom.Tests.Kernels;

public class ElementwiseMathTests
{
    [Fact]
    public void AbsOfMostNegativeInt8WrapsLikeNumPy() =>
        Equal(new sbyte[] { -128, 5, 0, 7 }, Run("Abs", null, T(new sbyte[] { -128, -5, 0, 7 }, 4))[0]);

    [Fact]
    public void NegOfInt32() => Equal(new[] { -1, 2, 0 }, Run("Neg", null, T(new[] { 1, -2, 0 }, 3))[0]);

    [Fact]
    public void SignKeepsNaNAndZero() =>
        Close([-1, 0, 1, double.NaN], Run("Sign", null, F([-2f, 0f, 3f, float.NaN], 4))[0]);

    [Fact]
    public void SignOfUnsigned() => Equal(new byte[] { 0, 1 }, Run("Sign", null, T(new byte[] { 0, 200 }, 2))[0]);

    [Fact]
    public void RoundHalvesToEven() =>
        Close([0, 2, 2, -0.0, -2, 2, 3], Run("Round", null, F([0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, 2.6f], 7))[0]);

    [Fact]
    public void FloorCeilReciprocal()
    {
        Close([-2, 1], Run("Floor", null, F([-1.5f, 1.5f], 2))[0]);
        Close([-1, 2], Run("Ceil", null, F([-1.5f, 1.5f], 2))[0]);
        Close([0.25, -2, double.PositiveInfinity], Run("Reciprocal", null, F([4f, -0.5f, 0f], 3))[0]);
    }

    [Fact]
    public void SqrtOfFloat16RoundsToHalf()
    {
        var y = Run("Sqrt", null, Halves([4f, 2f], 2))[0];
        Assert.Equal(DataType.Float16, y.DataType);
        // sqrt(2) = 1.41421...; the nearest float16 is 1.4140625 (step 2^-10 between 1 and 2).
        Equal(new[] { (Half)2f, (Half)1.4140625f }, y);
    }

    [Fact]
    public void ExpOfBFloat16AndDouble()
    {
        var b = Run("Exp", null, T(new[] { (BFloat16)0f, (BFloat16)1f }, 2))[0];
        Assert.Equal(DataType.BFloat16, b.DataType);
        Close([1, 2.71875], b, 1e-9); // e rounded to bfloat16's 8-bit significand
        Close([1, Math.E], Run("Exp", null, T(new[] { 0.0, 1.0 }, 2))[0], 1e-15);
    }

    [Fact]
    public void EmptyAndScalarTensors()
    {
        var e = Run("Exp", null, F([], 0, 3))[0];
        Assert.Equal([0, 3], e.Shape.ToArray());
        var s = Run("Log", null, Tensor.Scalar(1f))[0];
        Assert.Equal(0, s.Rank);
        Close([0], s);
    }

    [Fact]
    public void TrigonometryAndHyperbolics()
    {
        Close([0, 1], Run("Sin", null, F([0f, MathF.PI / 2], 2))[0]);
        Close([Math.PI / 2], Run("Acos", null, F([0f], 1))[0]);
        Close([Math.Log(2 + Math.Sqrt(3))], Run("Acosh", null, F([2f], 1))[0]);
        Close([0.5493061443340549], Run("Atanh", null, F([0.5f], 1))[0]);
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(1e-5, 1.1283791670579e-05)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(-2.0, -0.9953222650189527)]
    [InlineData(2.9999, 0.9999778955735178)]
    [InlineData(3.5, 0.9999992569016276)]
    [InlineData(4.2, 0.9999999971445058)]
    [InlineData(7.0, 1.0)]
    public void ErfIsAccurateToDoublePrecision(double x, double expected) =>
        Assert.True(Math.Abs(ElementwiseMath.Erf(x) - expected) <= 1e-14 * Math.Max(1e-300, Math.Abs(expected)) + 1e-16, $"erf({x}) = {ElementwiseMath.Erf(x)}");

    [Fact]
    public void ErfKernel() => Close([0.8427007929497149, -0.9953222650189527], Run("Erf", null, F([1f, -2f], 2))[0]);

    [Fact]
    public void IsInfHonoursDetectFlags()
    {
        var x = F([float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1f], 4);
        Equal(new[] { true, true, false, false }, Run("IsInf", null, x)[0]);
        Equal(new[] { true, false, false, false }, Run("IsInf", Attrs(IR.Attribute.Int("detect_negative", 0)), x)[0]);
        Equal(new[] { false, true, false, false }, Run("IsInf", Attrs(IR.Attribute.Int("detect_positive", 0)), x)[0]);
    }

    [Fact]
    public void IsNaNOfFloat16() =>
        Equal(new[] { false, true, false }, Run("IsNaN", null, T(new[] { (Half)1f, Half.NaN, Half.PositiveInfinity }, 3))[0]);

    [Fact]
    public void NotAndBitwiseNot()
    {
        Equal(new[] { false, true }, Run("Not", null, T(new[] { true, false }, 2))[0]);
        Equal(new byte[] { 255, 0, 0xF0 }, Run("BitwiseNot", null, T(new byte[] { 0, 255, 0x0F }, 3))[0]);
        Equal(new[] { -1, 0 }, Run("BitwiseNot", null, T(new[] { 0, -1 }, 2))[0]);
    }

    [Fact]
    public void FloatOpOnIntegersIsAnError()
    {
        var e = Assert.ThrowsAny<LoomException>(() => Run("Sin", null, T(new[] { 1, 2 }, 2)));
        Assert.Contains("does not support int32", e.Message);
    }
}
