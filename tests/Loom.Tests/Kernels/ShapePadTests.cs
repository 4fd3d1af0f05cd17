using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class ShapePadTests
{
    private static Tensor Row() => F([1, 2, 3], 1, 3);

    [Theory]
    [InlineData("constant", new float[] { 9, 9, 1, 2, 3, 9, 9, 9 })]
    [InlineData("reflect", new float[] { 3, 2, 1, 2, 3, 2, 1, 2 })]
    [InlineData("edge", new float[] { 1, 1, 1, 2, 3, 3, 3, 3 })]
    [InlineData("wrap", new float[] { 2, 3, 1, 2, 3, 1, 2, 3 })]
    public void PadModesOnLastAxis(string mode, float[] expected)
    {
        var y = OpTester.Run("Pad", [Attr.String("mode", mode)], Row(), L([0, 2, 0, 3], 4), Tensor.Scalar(9f))[0];
        Assert.Equal([1, 8], y.Shape.ToArray());
        Assert.Equal(expected, y.ToArray<float>());
    }

    [Fact]
    public void PadNegativeCropsThenPads()
    {
        // Crop one column at the start, add two edge columns at the end.
        var y = OpTester.Run("Pad", [Attr.String("mode", "edge")], Row(), L([0, -1, 0, 2], 4))[0];
        Assert.Equal([2f, 3, 3, 3], y.ToArray<float>());
    }

    [Fact]
    public void PadWithAxesInputAndOuterRows()
    {
        var y = OpTester.Run("Pad", null, Row(), L([1, 1], 2), Tensor.Scalar(0f), L([-2], 1))[0];
        Assert.Equal([3, 3], y.Shape.ToArray());
        Assert.Equal([0f, 0, 0, 1, 2, 3, 0, 0, 0], y.ToArray<float>());
    }

    [Fact]
    public void PadOpset2Attributes()
    {
        var y = OpTester.Run("Pad", [Attr.Ints("pads", [0, 1, 0, 0]), Attr.Float("value", 7)], 1, 2, "", Row())[0];
        Assert.Equal([7f, 1, 2, 3], y.ToArray<float>());
    }

    [Fact]
    public void PadStringsWithDefaultEmpty()
    {
        var y = OpTester.Run("Pad", null, Tensor.FromArray(new[] { "a" }, 1), L([1, 0], 2))[0];
        Assert.Equal(["", "a"], y.ToArray<string>());
    }

    [Fact]
    public void CenterCropPadOddDifferences()
    {
        // Crop 5 -> 2 takes [1,3); pad 3 -> 6 puts 1 before and 2 after.
        var y = OpTester.Run("CenterCropPad", null, F([0, 1, 2, 3, 4], 5), L([2], 1))[0];
        Assert.Equal([1f, 2], y.ToArray<float>());
        var z = OpTester.Run("CenterCropPad", null, F([1, 2, 3], 3), L([6], 1))[0];
        Assert.Equal([0f, 1, 2, 3, 0, 0], z.ToArray<float>());
    }
}
