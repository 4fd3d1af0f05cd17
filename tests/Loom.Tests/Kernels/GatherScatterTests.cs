using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class GatherScatterTests
{
    private static Tensor Grid() => F([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], 3, 4);

    [Fact]
    public void GatherAxis1NegativeIndices()
    {
        var y = OpTester.Run("Gather", [Attr.Int("axis", 1)], Grid(), L([-1, 0], 2))[0];
        Assert.Equal([3, 2], y.Shape.ToArray());
        Assert.Equal([3f, 0, 13, 10, 23, 20], y.ToArray<float>());
    }

    [Fact]
    public void GatherScalarIndexDropsAxis()
    {
        var y = OpTester.Run("Gather", null, Grid(), Tensor.Scalar(2))[0];
        Assert.Equal([4], y.Shape.ToArray());
        Assert.Equal([20f, 21, 22, 23], y.ToArray<float>());
    }

    [Fact]
    public void GatherOutOfRangeIsAClearError()
    {
        var e = Assert.ThrowsAny<LoomException>(() => OpTester.Run("Gather", null, Grid(), L([3], 1)));
        Assert.Contains("out of range", e.Message);
    }

    [Fact]
    public void GatherElementsAxis0()
    {
        var y = OpTester.Run("GatherElements", null, Grid(), L([2, 0, 1, -1], 1, 4))[0];
        Assert.Equal([20f, 1, 12, 23], y.ToArray<float>());
    }

    [Fact]
    public void GatherNDWithBatchDims()
    {
        // data [2,2,2]; batch_dims=1, indices [[1],[0]] -> data[0,1,:], data[1,0,:]
        var data = F([0, 1, 2, 3, 4, 5, 6, 7], 2, 2, 2);
        var y = OpTester.Run("GatherND", [Attr.Int("batch_dims", 1)], data, L([1, 0], 2, 1))[0];
        Assert.Equal([2, 2], y.Shape.ToArray());
        Assert.Equal([2f, 3, 4, 5], y.ToArray<float>());
    }

    [Fact]
    public void GatherNDFullTuplesGiveElements()
    {
        var y = OpTester.Run("GatherND", null, Grid(), L([2, 3, 0, -1], 2, 2))[0];
        Assert.Equal([23f, 3], y.ToArray<float>());
    }

    [Fact]
    public void ScatterElementsMulWithDuplicates()
    {
        var y = OpTester.Run("ScatterElements", [Attr.Int("axis", 1), Attr.String("reduction", "mul")],
            F([1, 2, 3, 4], 1, 4), L([1, 1, -1], 1, 3), F([3, 5, 2], 1, 3))[0];
        Assert.Equal([1f, 30, 3, 8], y.ToArray<float>());
    }

    [Fact]
    public void ScatterNDSlicesAndReductions()
    {
        var data = F([1, 1, 2, 2], 2, 2);
        var idx = L([1, 1], 2, 1);
        var upd = F([5, 6, 7, 8], 2, 2);
        Assert.Equal([1f, 1, 7, 8], OpTester.Run("ScatterND", null, data, idx, upd)[0].ToArray<float>());
        Assert.Equal([1f, 1, 14, 16], OpTester.Run("ScatterND", [Attr.String("reduction", "add")], data, idx, upd)[0].ToArray<float>());
        Assert.Equal([1f, 1, 7, 8], OpTester.Run("ScatterND", [Attr.String("reduction", "max")], data, idx, upd)[0].ToArray<float>());
        Assert.Equal([1f, 1, 2, 2], OpTester.Run("ScatterND", [Attr.String("reduction", "min")], data, idx, upd)[0].ToArray<float>());
    }

    [Fact]
    public void ScatterNDInt64AndHalfAdd()
    {
        var y = OpTester.Run("ScatterND", [Attr.String("reduction", "add")], L([1, 2, 3], 3), L([0, 0], 2, 1), L([10, 20], 2))[0];
        Assert.Equal([31L, 2, 3], y.ToArray<long>());
        var h = OpTester.Run("ScatterND", [Attr.String("reduction", "add")], Tensor.FromArray(new[] { (Half)1, (Half)2 }, 2), L([1], 1, 1), Tensor.FromArray(new[] { (Half)0.5 }, 1))[0];
        Assert.Equal([(Half)1, (Half)2.5], h.ToArray<Half>());
    }

    [Fact]
    public void ScatterOpset9IsScatterElements()
    {
        var y = OpTester.Run("Scatter", [Attr.Int("axis", 1)], 1, 9, "", F([0, 0, 0], 1, 3), L([2], 1, 1), F([7], 1, 1))[0];
        Assert.Equal([0f, 0, 7], y.ToArray<float>());
    }

    [Fact]
    public void CompressAxisAndFlat()
    {
        var cond = Tensor.FromArray(new[] { false, true, true }, 3);
        Assert.Equal([10f, 11, 12, 13, 20, 21, 22, 23], OpTester.Run("Compress", [Attr.Int("axis", 0)], Grid(), cond)[0].ToArray<float>());
        Assert.Equal([1f, 2], OpTester.Run("Compress", null, Grid(), cond)[0].ToArray<float>());
    }
}
