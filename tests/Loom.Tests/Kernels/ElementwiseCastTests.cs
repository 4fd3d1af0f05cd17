using static Loom.Tests.Kernels.ElementwiseTestData;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class ElementwiseCastTests
{
    private static Tensor Cast(Tensor x, DataType to, int opset = 21, params Attr[] more) =>
        Run("Cast", opset, [Attr.Int("to", (long)to), .. more], x);

    [Fact]
    public void FloatToInt4RoundsHalfToEvenAndClips()
    {
        var y = Cast(F([-9f, -2.5f, 2.5f, 7.6f, 3.5f], 5), DataType.Int4);
        Assert.Equal(DataType.Int4, y.DataType);
        Equal(new sbyte[] { -8, -2, 2, 7, 4 }, y);
        Equal(new byte[] { 0, 15, 2 }, Cast(F([-3f, 40f, 2.4f], 3), DataType.UInt4));
    }

    [Fact]
    public void IntegerNarrowingWraps()
    {
        Equal(new sbyte[] { -56, 127, 127 }, Cast(T(new[] { 200, -129, 127 }, 3), DataType.Int8));
        Equal(new byte[] { 1, 15 }, Cast(T(new sbyte[] { 17, -1 }, 2), DataType.UInt4));
        Equal(new ulong[] { ulong.MaxValue }, Cast(T(new long[] { -1 }, 1), DataType.UInt64));
        Equal(new long[] { 1L << 62 }, Cast(T(new ulong[] { 1UL << 62 }, 1), DataType.Int64));
    }

    [Fact]
    public void BoolConversions()
    {
        Equal(new[] { false, false, true, true }, Cast(F([0f, -0f, 0.1f, float.NaN], 4), DataType.Bool));
        Equal(new[] { 1f, 0f }, Cast(T(new[] { true, false }, 2), DataType.Float));
        Equal(new[] { false, true }, Cast(T(new long[] { 0, 256 }, 2), DataType.Bool));
    }

    [Fact]
    public void FloatToIntegerTruncatesTowardZero() => Equal(new[] { 2, -2 }, Cast(F([2.9f, -2.9f], 2), DataType.Int32));

    [Fact]
    public void OutOfRangeFloatToIntegerBehavesLikeCOnX64()
    {
        // ONNX leaves these undefined; ONNX Runtime and NumPy give what x86-64 C casts give.
        Equal(new byte[] { 255, 44, 0 }, Cast(F([-1f, 300f, float.NaN], 3), DataType.UInt8));
        Equal(new[] { int.MinValue, int.MinValue }, Cast(F([3e9f, float.NaN], 2), DataType.Int32));
        Equal(new uint[] { uint.MaxValue }, Cast(F([-1f], 1), DataType.UInt32));
    }

    [Fact]
    public void StringToNumbers()
    {
        var s = T(new[] { "1e-5", "-INF", "nan", " 2.5", "+inf", "3", "Infinity" }, 7);
        Close([1e-5, double.NegativeInfinity, double.NaN, 2.5, double.PositiveInfinity, 3, double.PositiveInfinity], Cast(s, DataType.Float), 1e-7);
        Equal(new long[] { 42, -7, long.MaxValue }, Cast(T(new[] { "42", "-7", "9223372036854775807" }, 3), DataType.Int64));
    }

    [Fact]
    public void UnparseableStringIsAnError()
    {
        var e = Assert.ThrowsAny<LoomException>(() => Cast(T(new[] { "1.5", "hello" }, 2), DataType.Float));
        Assert.Contains("\"hello\"", e.Message);
    }

    [Fact]
    public void FloatToStringLikeNumPy() =>
        Equal(new[] { "1.0", "0.001", "1e-05", "1e+16", "123456.0", "nan", "-inf", "-0.0", "0.1", "1.5e-07", "0.039187793" },
            Cast(F([1f, 0.001f, 1e-5f, 1e16f, 123456f, float.NaN, float.NegativeInfinity, -0f, 0.1f, 1.5e-7f, 0.039187793f], 11), DataType.String));

    [Fact]
    public void OtherTypesToString()
    {
        Equal(new[] { "0.1", "0.3333333333333333" }, Cast(T(new[] { 0.1, 1.0 / 3 }, 2), DataType.String));
        Equal(new[] { "-5", "12" }, Cast(T(new[] { -5, 12 }, 2), DataType.String));
        Equal(new[] { "18446744073709551615" }, Cast(T(new[] { ulong.MaxValue }, 1), DataType.String));
        Equal(new[] { "True", "False" }, Cast(T(new[] { true, false }, 2), DataType.String));
        Equal(new[] { "0.5" }, Cast(Halves([0.5f], 1), DataType.String));
    }

    [Fact]
    public void FloatToBFloat16RoundsToNearestEven()
    {
        // 0.48033667f = 0x3EF5EE..: the dropped half 0xEE.. is above 0x8000, so it rounds up to 0x3EF6.
        var y = Cast(F([0.48033667f, 1f], 2), DataType.BFloat16);
        Assert.Equal(new ushort[] { 0x3EF6, 0x3F80 }, y.ToArray<BFloat16>().Select(b => b.Bits).ToArray());
    }

    [Fact]
    public void FloatToFloat8AndBack()
    {
        var y = Cast(F([1f, 500f, PositiveNaN], 3), DataType.Float8E4M3FN);
        Assert.Equal(DataType.Float8E4M3FN, y.DataType);
        Equal(new byte[] { 0x38, 0x7E, 0x7F }, y);
        var n = Cast(F([1e6f], 1), DataType.Float8E5M2, 21, Attr.Int("saturate", 0));
        Equal(new byte[] { 0x7C }, n);
        var back = Cast(Tensor.FromArray(new byte[] { 0x38, 0xC0, 0x7F }, new[] { 3 }, DataType.Float8E4M3FN), DataType.Float);
        Close([1, -2, double.NaN], back);
    }

    [Fact]
    public void FloatToE8M0WithRoundMode()
    {
        var y = Cast(F([3f, 2.5f], 2), DataType.Float8E8M0, 24, Attr.String("round_mode", "nearest"));
        Assert.Equal(DataType.Float8E8M0, y.DataType);
        Equal(new byte[] { 129, 128 }, y);
    }

    [Fact]
    public void CastBeforeOpset6TakesATypeName() =>
        Equal(new[] { 1, -1 }, Run("Cast", 1, Attrs(Attr.String("to", "INT32")), F([1.7f, -1.7f], 2)));

    [Fact]
    public void CastLikeTakesTheSecondInputsType()
    {
        var y = Run("CastLike", null, F([1.9f, -3f], 2), T(new long[] { 0 }, 1))[0];
        Assert.Equal(DataType.Int64, y.DataType);
        Equal(new long[] { 1, -3 }, y);
    }

    [Fact]
    public void CastToTheSameTypeKeepsTheValues() => Equal(new[] { 1.5f, -2f }, Cast(F([1.5f, -2f], 2), DataType.Float));
}
