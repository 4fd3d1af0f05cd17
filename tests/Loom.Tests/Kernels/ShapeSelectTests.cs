using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class ShapeSelectTests
{
    [Fact]
    public void NonZeroCoordinatesIgnoreNegativeZero()
    {
        var y = OpTester.Run("NonZero", null, F([0, -0f, 3, 0, 5, 0], 2, 3))[0];
        Assert.Equal([2, 2], y.Shape.ToArray());
        Assert.Equal([0L, 1, 2, 1], y.ToArray<long>());
    }

    [Fact]
    public void UniqueUnsortedAllOutputs()
    {
        var outs = OpTester.Run("Unique", [Attr.Int("sorted", 0)], 4, 21, "", F([2, 1, 1, 3, 4, 3], 6));
        Assert.Equal([2f, 1, 3, 4], outs[0].ToArray<float>());
        Assert.Equal([0L, 1, 3, 4], outs[1].ToArray<long>());
        Assert.Equal([0L, 1, 1, 2, 3, 2], outs[2].ToArray<long>());
        Assert.Equal([1L, 2, 2, 1], outs[3].ToArray<long>());
    }

    [Fact]
    public void UniqueSortedAlongAxis()
    {
        // Columns of [[1,0,1],[2,5,2]] are (1,2),(0,5),(1,2): unique sorted -> (0,5),(1,2).
        var outs = OpTester.Run("Unique", [Attr.Int("axis", 1)], 4, 21, "", F([1, 0, 1, 2, 5, 2], 2, 3));
        Assert.Equal([2, 2], outs[0].Shape.ToArray());
        Assert.Equal([0f, 1, 5, 2], outs[0].ToArray<float>());
        Assert.Equal([1L, 0], outs[1].ToArray<long>());
        Assert.Equal([1L, 0, 1], outs[2].ToArray<long>());
        Assert.Equal([1L, 2], outs[3].ToArray<long>());
    }

    [Fact]
    public void UniqueStrings()
    {
        var y = OpTester.Run("Unique", null, Tensor.FromArray(new[] { "b", "a", "b" }, 3))[0];
        Assert.Equal(["a", "b"], y.ToArray<string>());
    }

    [Fact]
    public void ReverseSequenceBatchFirst()
    {
        var y = OpTester.Run("ReverseSequence", [Attr.Int("batch_axis", 0), Attr.Int("time_axis", 1)],
            F([1, 2, 3, 4, 5, 6], 2, 3), L([2, 3], 2))[0];
        Assert.Equal([2f, 1, 3, 6, 5, 4], y.ToArray<float>());
    }

    [Fact]
    public void Col2ImSumsOverlaps()
    {
        // One channel, image 1x3, block 1x2, stride 1: two blocks [a,b] at columns 0-1 and 1-2.
        // Input [1, 2, 2]: row k = kernel offset, column l = block. Blocks (1,2) and (3,4) -> [1, 2+3, 4].
        var y = OpTester.Run("Col2Im", null, F([1, 3, 2, 4], 1, 2, 2), L([1, 3], 2), L([1, 2], 2))[0];
        Assert.Equal([1, 1, 1, 3], y.Shape.ToArray());
        Assert.Equal([1f, 5, 4], y.ToArray<float>());
    }
}
