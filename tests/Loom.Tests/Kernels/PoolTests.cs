using Loom.IR;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class PoolTests
{
    private static readonly float[] Grid = [1, 5, 2, 0, 3, 9, 4, 8, 7, 6, 10, 11, 12, 13, 15, 14];

    [Fact]
    public void MaxPoolIndicesInBothStorageOrders()
    {
        // 4x4 input, 2x2 windows, stride 2: maxima 9 at (1,1), 8 at (1,3), 13 at (3,1), 15 at (3,2).
        var x = F(Grid, 1, 1, 4, 4);
        var attrs = new List<Attr> { Attr.Ints("kernel_shape", [2, 2]), Attr.Ints("strides", [2, 2]) };
        var r = Run("MaxPool", attrs, 2, 21, "", x);
        AssertClose([9, 8, 13, 15], r[0]);
        Assert.Equal([5L, 7, 13, 14], r[1].ToArray<long>());
        attrs.Add(Attr.Int("storage_order", 1));
        Assert.Equal([5L, 13, 7, 11], Run("MaxPool", attrs, 2, 21, "", x)[1].ToArray<long>());
    }

    [Fact]
    public void MaxPoolIndicesCountBatchAndChannel()
    {
        var x = F([.. Grid, .. Grid.Select(v => -v)], 1, 2, 4, 4);
        var r = Run("MaxPool", [Attr.Ints("kernel_shape", [4, 4])], 2, 21, "", x);
        AssertClose([15, 0], r[0]);
        Assert.Equal([14L, 16 + 3], r[1].ToArray<long>());
    }

    [Fact]
    public void AveragePoolPaddingCounts()
    {
        var x = F([1, 2, 3, 4], 1, 1, 2, 2);
        var attrs = new List<Attr> { Attr.Ints("kernel_shape", [2, 2]), Attr.Ints("pads", [1, 1, 0, 0]) };
        // Windows over the padded 3x3 grid; corner (0,0) covers only x00.
        AssertClose([1, 1.5f, 2, 2.5f], Run("AveragePool", attrs, F([1, 2, 3, 4], 1, 1, 2, 2))[0]);
        attrs.Add(Attr.Int("count_include_pad", 1));
        AssertClose([0.25f, 0.75f, 1, 2.5f], Run("AveragePool", attrs, x)[0]);
    }

    [Fact]
    public void CeilModeDropsAWindowStartingInThePadding()
    {
        // Length 5, kernel 2, stride 2, pad end 1: ceil gives 3 windows, starts 0, 2, 4 (all inside).
        var x = F([1, 2, 3, 4, 5], 1, 1, 5);
        var attrs = new List<Attr> { Attr.Ints("kernel_shape", [2]), Attr.Ints("strides", [2]), Attr.Int("ceil_mode", 1) };
        AssertClose([1.5f, 3.5f, 5], Run("AveragePool", attrs, x)[0]);
        // Length 4, pads 1+1: ceil((4+2-2)/2)+1 = 3 windows starting at -1, 1 and 3 (the last still inside).
        var y = Run("MaxPool", [Attr.Ints("kernel_shape", [2]), Attr.Ints("strides", [2]), Attr.Ints("pads", [1, 1]), Attr.Int("ceil_mode", 1)], F([1, 2, 3, 4], 1, 1, 4))[0];
        AssertClose([1, 3, 4], y);
        var z = Run("MaxPool", [Attr.Ints("kernel_shape", [2]), Attr.Ints("strides", [3]), Attr.Ints("pads", [0, 1]), Attr.Int("ceil_mode", 1)], F([1, 2, 3, 4], 1, 1, 4))[0];
        // ceil((4+1-2)/3)+1 = 2 windows, starts 0 and 3 (inside), so nothing is dropped.
        AssertClose([2, 4], z);
        var w = Run("MaxPool", [Attr.Ints("kernel_shape", [1]), Attr.Ints("strides", [2]), Attr.Ints("pads", [0, 1]), Attr.Int("ceil_mode", 1)], F([1, 2, 3, 4], 1, 1, 4))[0];
        // ceil((4+1-1)/2)+1 = 3, but start 4 is in the end pad: 2 windows.
        AssertClose([1, 3], w);
    }

    [Fact]
    public void LpPoolAndGlobalPools()
    {
        var x = F([3, 4, 0, 12], 1, 1, 2, 2);
        AssertClose([13], Run("LpPool", [Attr.Ints("kernel_shape", [2, 2])], x)[0]);
        AssertClose([19], Run("LpPool", [Attr.Ints("kernel_shape", [2, 2]), Attr.Int("p", 1)], x)[0]);
        AssertClose([4.75f], Run("GlobalAveragePool", null, x)[0]);
        AssertClose([12], Run("GlobalMaxPool", null, x)[0]);
        AssertClose([13], Run("GlobalLpPool", null, x)[0]);
        Assert.Equal([1, 1, 1, 1], Run("GlobalAveragePool", null, x)[0].Shape.ToArray());
    }

    [Fact]
    public void MaxPoolInt8AndDilation()
    {
        var x = Tensor.FromArray(new sbyte[] { -5, 7, -3, 2, -1 }, 1, 1, 5);
        var y = Run("MaxPool", [Attr.Ints("kernel_shape", [2]), Attr.Ints("dilations", [2])], x)[0];
        Assert.Equal([(sbyte)-3, 7, -1], y.ToArray<sbyte>());
    }

    [Fact]
    public void EmptyBatchPools()
    {
        var x = F([], 0, 3, 4, 4);
        Assert.Equal([0, 3, 2, 2], Run("MaxPool", [Attr.Ints("kernel_shape", [2, 2]), Attr.Ints("strides", [2, 2])], x)[0].Shape.ToArray());
        Assert.Equal([0, 3, 1, 1], Run("GlobalAveragePool", null, x)[0].Shape.ToArray());
    }

    [Fact]
    public void MaxUnpoolRestoresPositions()
    {
        var x = F([9, 8, 13, 15], 1, 1, 2, 2);
        var idx = Tensor.FromArray(new long[] { 5, 7, 13, 14 }, 1, 1, 2, 2);
        var y = Run("MaxUnpool", [Attr.Ints("kernel_shape", [2, 2]), Attr.Ints("strides", [2, 2])], x, idx)[0];
        AssertClose([0, 0, 0, 0, 0, 9, 0, 8, 0, 0, 0, 0, 0, 13, 15, 0], y);
    }

    [Fact]
    public void MaxRoiPoolBins()
    {
        var x = F(Enumerable.Range(0, 16).Select(i => (float)i).ToArray(), 1, 1, 4, 4);
        var rois = F([0, 0, 0, 3, 3, 0, 1, 1, 2, 2], 2, 5);
        var y = Run("MaxRoiPool", [Attr.Ints("pooled_shape", [2, 2])], x, rois)[0];
        Assert.Equal([2, 1, 2, 2], y.Shape.ToArray());
        AssertClose([5, 7, 13, 15, 5, 6, 9, 10], y);
    }

    [Fact]
    public void PoolShapeRulesKeepSymbols()
    {
        var y = ConvInference.Outputs("MaxPool", [Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [2, 2]), Attr.Ints("pads", [1, 1, 1, 1])], 2,
            ConvInference.T("n", 64, "h", "w"));
        Assert.Equal("[n,64,(h-1)/2+1,(w-1)/2+1]", y[0].ToString());
        Assert.Equal(y[0], y[1]);
        var g = ConvInference.Output("GlobalAveragePool", null, ConvInference.T("n", 64, "h", "w"));
        Assert.Equal("[n,64,1,1]", g.ToString());
    }
}
