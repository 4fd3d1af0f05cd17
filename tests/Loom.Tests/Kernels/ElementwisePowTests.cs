using static Loom.Tests.Kernels.ElementwiseTestData;
using static Loom.Tests.Support.OpTester;

namespace Loom.Tests.Kernels;

public class ElementwisePowTests
{
    [Fact]
    public void FloatPowers() => Close([8, 2, 1, 0.5], Run("Pow", null, F([2f, 4f, 7f, 2f], 4), F([3f, 0.5f, 0f, -1f], 4))[0]);

    [Fact]
    public void Int64PowersAreExactBeyondDoublePrecision() =>
        // 3^39 = 4052555153018976267 is not representable in float64 (which gives ...256).
        Equal(new long[] { 4052555153018976267, 1L << 62 }, Run("Pow", null, T(new long[] { 3, 2 }, 2), T(new long[] { 39, 62 }, 2))[0]);

    [Fact]
    public void IntegerBaseWithFloatExponentTruncates() =>
        Equal(new[] { 1, 9, 0 }, Run("Pow", null, T(new[] { 2, 3, 4 }, 3), F([0.5f, 2f, -1f], 3))[0]);

    [Fact]
    public void NegativeIntegerExponents() =>
        Equal(new[] { 0, 1, -1, 1 }, Run("Pow", null, T(new[] { 2, 1, -1, -1 }, 4), T(new[] { -1, -3, -3, -2 }, 4))[0]);

    [Fact]
    public void FloatBaseWithIntegerExponentBroadcast()
    {
        var y = Run("Pow", null, F([1f, 2f], 2, 1), T(new long[] { 1, 2, 3 }, 3))[0];
        Assert.Equal(DataType.Float, y.DataType);
        Close([1, 1, 1, 2, 4, 8], y);
    }

    [Fact]
    public void Float16Base() => Equal(new[] { (Half)9f }, Run("Pow", null, Halves([3f], 1), F([2f], 1))[0]);
}
