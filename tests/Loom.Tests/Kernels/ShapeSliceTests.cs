using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class ShapeSliceTests
{
    // x[i,j] = 10i + j, shape [3,4]
    private static Tensor Grid() => F([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], 3, 4);

    [Fact]
    public void SliceNegativeStepReverses()
    {
        // x[::-1, 3:0:-2] -> rows 2,1,0 and columns 3,1.
        var y = OpTester.Run("Slice", null, Grid(), L([-1, 3], 2), L([long.MinValue, 0], 2), L([0, 1], 2), L([-1, -2], 2))[0];
        Assert.Equal([3, 2], y.Shape.ToArray());
        Assert.Equal([23f, 21, 13, 11, 3, 1], y.ToArray<float>());
    }

    [Fact]
    public void SliceClampsOutOfRangeBounds()
    {
        var y = OpTester.Run("Slice", null, Grid(), L([-100, 2], 2), L([100, 1000], 2))[0];
        Assert.Equal([3, 2], y.Shape.ToArray());
        Assert.Equal([2f, 3, 12, 13, 22, 23], y.ToArray<float>());
    }

    [Fact]
    public void SliceEmptyWhenStartPastEnd()
    {
        var y = OpTester.Run("Slice", null, Grid(), L([2], 1), L([1], 1), L([1], 1))[0];
        Assert.Equal([3, 0], y.Shape.ToArray());
    }

    [Fact]
    public void SliceOpset9Attributes()
    {
        var y = OpTester.Run("Slice", [Attr.Ints("starts", [1]), Attr.Ints("ends", [-1]), Attr.Ints("axes", [1])], 1, 9, "", Grid())[0];
        Assert.Equal([1f, 2, 11, 12, 21, 22], y.ToArray<float>());
    }

    [Fact]
    public void SliceRejectsZeroStep() =>
        Assert.ThrowsAny<LoomException>(() => OpTester.Run("Slice", null, Grid(), L([0], 1), L([2], 1), L([0], 1), L([0], 1)));

    [Fact]
    public void SplitNumOutputsLastChunkSmaller()
    {
        var ys = OpTester.Run("Split", [Attr.Int("num_outputs", 3), Attr.Int("axis", 1)], 3, 18, "", F(new float[14], 2, 7));
        Assert.Equal([[2, 3], [2, 3], [2, 1]], ys.Select(y => y.Shape.ToArray()));
    }

    [Fact]
    public void SplitSizesAlongInnerAxisCopiesRows()
    {
        var ys = OpTester.Run("Split", [Attr.Int("axis", -1)], 2, 13, "", Grid(), L([1, 3], 2));
        Assert.Equal([0f, 10, 20], ys[0].ToArray<float>());
        Assert.Equal([1f, 2, 3, 11, 12, 13, 21, 22, 23], ys[1].ToArray<float>());
    }

    [Fact]
    public void SplitUnevenWithoutSizesFailsBeforeOpset18() =>
        Assert.ThrowsAny<LoomException>(() => OpTester.Run("Split", null, 2, 13, "", F(new float[3], 3)));

    [Fact]
    public void ConcatInnerAxisWithEmptyInput()
    {
        var y = OpTester.Run("Concat", [Attr.Int("axis", 1)], F([1, 2], 2, 1), F([], 2, 0), F([3, 4, 5, 6], 2, 2))[0];
        Assert.Equal([2, 3], y.Shape.ToArray());
        Assert.Equal([1f, 3, 4, 2, 5, 6], y.ToArray<float>());
    }

    [Fact]
    public void ConcatStrings()
    {
        var y = OpTester.Run("Concat", [Attr.Int("axis", 0)], Tensor.FromArray(new[] { "a" }, 1), Tensor.FromArray(new[] { "b", "c" }, 2))[0];
        Assert.Equal(["a", "b", "c"], y.ToArray<string>());
    }

    [Fact]
    public void ConcatRejectsMismatchedDims() =>
        Assert.ThrowsAny<LoomException>(() => OpTester.Run("Concat", [Attr.Int("axis", 0)], F([1, 2], 1, 2), F([1, 2, 3], 1, 3)));

    [Fact]
    public void ImpossibleSplitFailsOnlyWhenRun()
    {
        // Inference must not reject it (it may sit in an If branch that never runs); running it is an error.
        var model = OpTester.BuildModel("Split", [Attr.Int("num_outputs", 5)], 5, 18, "", F(new float[4], 4));
        Inference.ShapeInference.Run(model);
        var e = Assert.ThrowsAny<LoomException>(() => OpTester.Run("Split", [Attr.Int("num_outputs", 5)], 5, 18, "", F(new float[4], 4)));
        Assert.Contains("cannot be split", e.Message);
    }
}
