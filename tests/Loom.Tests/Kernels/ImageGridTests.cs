using Loom.Tests.Support;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class ImageGridTests
{
    private static Tensor Sample(Tensor x, Tensor grid, params Attr[] attrs) => OpTester.Run("GridSample", attrs, x, grid)[0];

    private static readonly Tensor Square = OpTester.F([1, 2, 3, 4], 1, 1, 2, 2);

    [Fact]
    public void Bilinear_centre_and_corner_with_zero_padding()
    {
        // align_corners=0: (0, 0) is x = y = 0.5, the mean; (-1, -1) is x = y = -0.5, a quarter of pixel (0, 0).
        var y = Sample(Square, OpTester.F([0, 0, -1, -1], 1, 1, 2, 2));
        Assert.Equal([1, 1, 1, 2], y.Shape.ToArray());
        OpTester.AssertClose([2.5f, 0.25f], y);
    }

    [Fact]
    public void Border_padding_repeats_edge_pixels()
    {
        var y = Sample(Square, OpTester.F([-1, -1, 3, 0], 1, 1, 2, 2), Attr.String("padding_mode", "border"));
        // (3, 0): x = 6.5 clamps to 1, y = 0.5 -> mean of 2 and 4.
        OpTester.AssertClose([1, 3], y);
    }

    [Fact]
    public void Reflection_padding_folds_back_inside()
    {
        // Row 10..40, align_corners=0: g = -1.5 -> x = -1.5, reflected off -0.5 to 0.5 -> 15.
        var y = Sample(OpTester.F([10, 20, 30, 40], 1, 1, 1, 4), OpTester.F([-1.5f, 0], 1, 1, 1, 2), Attr.String("padding_mode", "reflection"));
        OpTester.AssertClose([15], y);
    }

    [Fact]
    public void Nearest_rounds_half_to_even()
    {
        // align_corners=1 over 4 pixels: g = 0 -> x = 1.5 -> index 2.
        var y = Sample(OpTester.F([10, 20, 30, 40], 1, 1, 1, 4), OpTester.F([0, 0], 1, 1, 1, 2), Attr.String("mode", "nearest"), Attr.Int("align_corners", 1));
        OpTester.AssertClose([30], y);
    }

    [Fact]
    public void Cubic_uses_keys_kernel()
    {
        // x = 1.5 between 2 and 4: -0.09375*1 + 0.59375*2 + 0.59375*4 - 0.09375*8.
        var y = Sample(OpTester.F([1, 2, 4, 8], 1, 1, 1, 4), OpTester.F([0, 0], 1, 1, 1, 2), Attr.String("mode", "cubic"), Attr.Int("align_corners", 1));
        OpTester.AssertClose([2.71875f], y);
    }

    [Fact]
    public void Volumetric_linear_centre_is_the_mean()
    {
        var x = OpTester.F(Enumerable.Range(0, 8).Select(i => (float)i).ToArray(), 1, 1, 2, 2, 2);
        var y = Sample(x, OpTester.F([0, 0, 0, -1, -1, -1], 1, 2, 1, 1, 3), Attr.Int("align_corners", 1));
        Assert.Equal([1, 1, 2, 1, 1], y.Shape.ToArray());
        OpTester.AssertClose([3.5f, 0], y);
    }

    [Fact]
    public void Opset_16_accepts_bilinear_name()
    {
        var y = OpTester.Run("GridSample", [Attr.String("mode", "bilinear")], 1, 16, "", Square, OpTester.F([0, 0], 1, 1, 1, 2))[0];
        OpTester.AssertClose([2.5f], y);
    }

    [Fact]
    public void Empty_grid_gives_empty_output()
    {
        var y = Sample(Square, Tensor.FromArray(Array.Empty<float>(), 1, 0, 3, 2));
        Assert.Equal([1, 1, 0, 3], y.Shape.ToArray());
    }

    [Fact]
    public void AffineGrid_2d_positions_are_pixel_centres()
    {
        // W = 3: x = -2/3, 0, 2/3; H = 2: y = -0.5, 0.5; theta maps (x, y) to (x + 0.5, 2y).
        var grid = OpTester.Run("AffineGrid", [], OpTester.F([1, 0, 0.5f, 0, 2, 0], 1, 2, 3), OpTester.L([1, 1, 2, 3], 4))[0];
        Assert.Equal([1, 2, 3, 2], grid.Shape.ToArray());
        OpTester.AssertClose([-1f / 6, -1, 0.5f, -1, 7f / 6, -1, -1f / 6, 1, 0.5f, 1, 7f / 6, 1], grid);
    }

    [Fact]
    public void AffineGrid_3d_align_corners_spans_minus_one_to_one()
    {
        var theta = OpTester.F([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], 1, 3, 4);
        var grid = OpTester.Run("AffineGrid", [Attr.Int("align_corners", 1)], theta, OpTester.L([1, 1, 2, 1, 2], 5))[0];
        Assert.Equal([1, 2, 1, 2, 3], grid.Shape.ToArray());
        // (x, y, z) with W = 2 -> x = -1, 1; H = 1 -> y = -1; D = 2 -> z = -1, 1.
        OpTester.AssertClose([-1, -1, -1, 1, -1, -1, -1, -1, 1, 1, -1, 1], grid);
    }

    [Fact]
    public void GridSample_shape_rule_keeps_symbols()
    {
        var t = ImageInfer.Output("GridSample", [], 22,
            [("x", ImageInfer.Type(DataType.Float, "[n,c,h,w]")), ("g", ImageInfer.Type(DataType.Float, "[n,p,q,2]"))]);
        Assert.Equal("[n,c,p,q]", t!.Shape!.ToString());
    }
}
