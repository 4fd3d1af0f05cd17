using static Loom.Tests.Kernels.ElementwiseTestData;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class ElementwiseLogicTests
{
    [Fact]
    public void ComparisonsBroadcast()
    {
        var a = T(new[] { 1, 5, 3, 3 }, 2, 2);
        var b = T(new[] { 3, 3 }, 2);
        Equal(new[] { false, true, false, false }, Run("Greater", null, a, b)[0]);
        Equal(new[] { true, false, false, false }, Run("Less", null, a, b)[0]);
        Equal(new[] { false, true, true, true }, Run("GreaterOrEqual", null, a, b)[0]);
        Equal(new[] { true, false, true, true }, Run("LessOrEqual", null, a, b)[0]);
        Equal(new[] { false, false, true, true }, Run("Equal", null, a, b)[0]);
    }

    [Fact]
    public void ComparisonsWithNaNAreFalse()
    {
        var a = F([float.NaN, 1f], 2);
        Equal(new[] { false, true }, Run("Equal", null, a, F([float.NaN, 1f], 2))[0]);
        Equal(new[] { false, false }, Run("Greater", null, a, F([0f, 1f], 2))[0]);
    }

    [Fact]
    public void EqualOnStringsBoolsAndFloat16()
    {
        Equal(new[] { true, false, false, true },
            Run("Equal", null, T(new[] { "a", "b", "c", "d" }, 2, 2), T(new[] { "a", "d" }, 2))[0]);
        Equal(new[] { true, false }, Run("Equal", null, T(new[] { true, false }, 2), T(new[] { true, true }, 2))[0]);
        Equal(new[] { true, false }, Run("Equal", null, Halves([1.5f, 2f], 2), Halves([1.5f, 3f], 2))[0]);
    }

    [Fact]
    public void AndOrXorBroadcast()
    {
        var a = T(new[] { true, true, false, false }, 2, 2);
        var b = T(new[] { true, false }, 2);
        Equal(new[] { true, false, false, false }, Run("And", null, a, b)[0]);
        Equal(new[] { true, true, true, false }, Run("Or", null, a, b)[0]);
        Equal(new[] { false, true, true, false }, Run("Xor", null, a, b)[0]);
    }

    [Fact]
    public void BitShiftByTheWidthOrMoreGivesZero()
    {
        var left = Attrs(Attr.String("direction", "LEFT"));
        var right = Attrs(Attr.String("direction", "RIGHT"));
        Equal(new byte[] { 8, 254, 0 }, Run("BitShift", left, T(new byte[] { 1, 255, 1 }, 3), T(new byte[] { 3, 1, 8 }, 3))[0]);
        Equal(new uint[] { 4, 0 }, Run("BitShift", right, T(new uint[] { 16, 1 }, 2), T(new uint[] { 2, 40 }, 2))[0]);
        Equal(new ulong[] { 1UL << 63, 0 }, Run("BitShift", left, T(new ulong[] { 1, 1 }, 2), T(new ulong[] { 63, 64 }, 2))[0]);
    }

    [Fact]
    public void BitwiseAndOrXor()
    {
        var a = T(new short[] { 0b1100, -1 }, 2);
        var b = T(new short[] { 0b1010, 0x0F0F }, 2);
        Equal(new short[] { 0b1000, 0x0F0F }, Run("BitwiseAnd", null, a, b)[0]);
        Equal(new short[] { 0b1110, -1 }, Run("BitwiseOr", null, a, b)[0]);
        Equal(new short[] { 0b0110, unchecked((short)0xF0F0) }, Run("BitwiseXor", null, a, b)[0]);
    }

    [Fact]
    public void WhereBroadcastsThreeWays()
    {
        var c = T(new[] { true, false }, 2, 1);
        var y = Run("Where", null, c, F([1f, 2f, 3f], 1, 3), Tensor.Scalar(-1f))[0];
        Assert.Equal([2, 3], y.Shape.ToArray());
        Close([1, 2, 3, -1, -1, -1], y);
    }

    [Fact]
    public void WhereOnStringsAndInt64()
    {
        Equal(new[] { "x", "b" }, Run("Where", null, T(new[] { true, false }, 2), T(new[] { "x", "y" }, 2), T(new[] { "a", "b" }, 2))[0]);
        Equal(new long[] { 7, 2 }, Run("Where", null, T(new[] { true, false }, 2), Tensor.Scalar(7L), T(new long[] { 1, 2 }, 2))[0]);
    }
}
