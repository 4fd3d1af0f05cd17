using Loom.Tests.Support;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class DetectionTests
{
    // x[y, x] = 4y + x is linear, so every bilinear sample is exact.
    private static readonly Tensor Ramp = OpTester.F(Enumerable.Range(0, 16).Select(i => (float)i).ToArray(), 1, 1, 4, 4);

    private static Tensor RoiAlign(string coordinates, string mode = "avg") =>
        OpTester.Run("RoiAlign", [Attr.String("coordinate_transformation_mode", coordinates), Attr.String("mode", mode), Attr.Int("sampling_ratio", 2)],
            Ramp, OpTester.F([0, 0, 3, 3], 1, 4), OpTester.L([0], 1))[0];

    [Fact]
    public void RoiAlign_half_pixel_samples_shifted_by_half()
    {
        // Samples at -0.5 + 0.75, -0.5 + 2.25 = 0.25, 1.75 per axis: mean 4 * 1 + 1.
        var y = RoiAlign("half_pixel");
        Assert.Equal([1, 1, 1, 1], y.Shape.ToArray());
        OpTester.AssertClose([5], y);
    }

    [Fact]
    public void RoiAlign_output_half_pixel_samples_unshifted()
    {
        // Samples at 0.75, 2.25 per axis: mean 4 * 1.5 + 1.5.
        OpTester.AssertClose([7.5f], RoiAlign("output_half_pixel"));
    }

    [Fact]
    public void RoiAlign_max_takes_largest_weighted_neighbour()
    {
        // Sample (2.25, 2.25): weights 0.5625, 0.1875, 0.1875, 0.0625 on 10, 11, 14, 15 -> largest 5.625.
        OpTester.AssertClose([5.625f], RoiAlign("output_half_pixel", "max"));
    }

    private static long[] Nms(float[] scores, long maxPerClass, float iou, float? scoreThreshold = null)
    {
        var boxes = OpTester.F([0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 2, 1, 3], 1, 3, 4);
        var y = OpTester.Run("NonMaxSuppression", null, boxes, OpTester.F(scores, 1, 1, 3), OpTester.L([maxPerClass], 1), OpTester.F([iou], 1),
            scoreThreshold is { } t ? OpTester.F([t], 1) : null)[0];
        Assert.Equal(3, y.Shape[1]);
        return y.ToArray<long>();
    }

    [Fact]
    public void Nms_suppresses_overlapping_box()
    {
        // Boxes 0 and 1 overlap with IoU 0.9 / 1.1; box 2 is apart.
        Assert.Equal([0L, 0, 0, 0, 0, 2], Nms([0.9f, 0.8f, 0.7f], 10, 0.5f));
        Assert.Equal([0L, 0, 0, 0, 0, 1, 0, 0, 2], Nms([0.9f, 0.8f, 0.7f], 10, 0.9f));
    }

    [Fact]
    public void Nms_limits_and_thresholds()
    {
        Assert.Equal([0L, 0, 0], Nms([0.9f, 0.8f, 0.7f], 1, 0.5f));
        Assert.Equal([0L, 0, 0], Nms([0.9f, 0.8f, 0.7f], 10, 0.5f, 0.75f));
        Assert.Empty(Nms([0.9f, 0.8f, 0.7f], 0, 0.5f));
    }

    [Fact]
    public void Nms_equal_scores_prefer_lower_index()
    {
        Assert.Equal([0L, 0, 1, 0, 0, 2], Nms([0.5f, 0.8f, 0.8f], 10, 0.5f));
    }

    [Fact]
    public void Empty_rois_and_boxes()
    {
        var y = OpTester.Run("RoiAlign", [Attr.Int("output_height", 2), Attr.Int("output_width", 2)], Ramp, Tensor.FromArray(Array.Empty<float>(), 0, 4), Tensor.FromArray(Array.Empty<long>(), 0))[0];
        Assert.Equal([0, 1, 2, 2], y.Shape.ToArray());
        var nms = OpTester.Run("NonMaxSuppression", null, Tensor.FromArray(Array.Empty<float>(), 1, 0, 4), Tensor.FromArray(Array.Empty<float>(), 1, 1, 0), OpTester.L([5], 1))[0];
        Assert.Equal([0, 3], nms.Shape.ToArray());
    }
}
