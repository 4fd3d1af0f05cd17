using Loom.Inference;
using Loom.IR;
using Loom.Tests.Support;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>Runs shape inference on a one-node model, for rules whose inputs are symbolic or constant.</summary>
internal static class ImageInfer
{
    /// <summary>The inferred type of output <paramref name="output"/>; inputs are (name → type), constants become initializers.</summary>
    public static TensorType? Output(string opType, IEnumerable<Attr>? attributes, int opset, (string Name, TensorType Type)[] inputs,
        Dictionary<string, Tensor>? constants = null, int outputCount = 1, int output = 0, string domain = "")
    {
        var names = inputs.Select(i => i.Name).ToList();
        var outs = Enumerable.Range(0, outputCount).Select(i => $"out{i}").ToList();
        var node = new Node(opType, names, outs, attributes, "op", domain);
        var graph = new Graph("g", inputs.Where(i => i.Name.Length > 0).Select(i => new ValueInfo(i.Name, i.Type)),
            outs.Select(o => new ValueInfo(o, null)), [node], constants);
        var opsets = new Dictionary<string, int> { [""] = domain.Length == 0 ? opset : 21 };
        if (domain.Length > 0) opsets[domain] = opset;
        var inferred = ShapeInference.Run(new Model(graph, opsets, irVersion: 10));
        return inferred.Graph.Outputs[output].Type as TensorType ?? inferred.Graph.ValueTypes.GetValueOrDefault(outs[output]) as TensorType;
    }

    public static TensorType Type(DataType dt, string shape) => new(dt, Shape.Parse(shape));
}

public class ImageResizeTests
{
    private static Tensor[] Resize(Tensor x, float[]? scales, long[]? sizes, params Attr[] attrs) =>
        OpTester.Run("Resize", attrs, x, null,
            scales is null ? null : OpTester.F(scales, scales.Length),
            sizes is null ? null : OpTester.L(sizes, sizes.Length));

    [Fact]
    public void Linear_half_pixel_2x2_to_4x4()
    {
        // Along each axis x = (y + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25; the ends clamp to the edge pixels.
        var y = Resize(OpTester.F([1, 2, 3, 4], 1, 1, 2, 2), [1, 1, 2, 2], null, Attr.String("mode", "linear"))[0];
        Assert.Equal([1, 1, 4, 4], y.Shape.ToArray());
        OpTester.AssertClose([1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4], y);
    }

    [Theory]
    [InlineData("round_prefer_floor", new float[] { 1, 1, 2, 2 })]
    [InlineData("round_prefer_ceil", new float[] { 1, 2, 2, 2 })]
    [InlineData("floor", new float[] { 1, 1, 2, 2 })]
    [InlineData("ceil", new float[] { 1, 2, 2, 2 })]
    public void Nearest_modes_break_ties_as_named(string nearestMode, float[] expected)
    {
        // asymmetric: x = y / 2 = 0, 0.5, 1, 1.5 (1.5 rounds up to 2, clamped to 1).
        var y = Resize(OpTester.F([1, 2], 2), [2], null, Attr.String("coordinate_transformation_mode", "asymmetric"), Attr.String("nearest_mode", nearestMode))[0];
        OpTester.AssertClose(expected, y);
    }

    [Theory]
    [InlineData(2f, 2f)]   // the detector's FPN neck: whole rows repeated, each element twice
    [InlineData(8f, 8f)]
    [InlineData(3f, 1f)]   // rows repeated, the inner axis unchanged
    [InlineData(1f, 3f)]
    [InlineData(1.5f, 2.5f)] // irregular repeats: rows and elements gathered by the tables
    [InlineData(0.5f, 2f)]
    public void Nearest_asymmetric_floor_matches_the_definition(float sh, float sw)
    {
        // y[n, c, i, j] = x[n, c, floor(i / sh), floor(j / sw)] (asymmetric coordinates, floor), computed here independently.
        const int n = 2, c = 3, h = 4, w = 5;
        var data = Enumerable.Range(0, n * c * h * w).Select(i => (float)(i * 7 % 23) - 11).ToArray();
        var y = Resize(OpTester.F(data, n, c, h, w), [1, 1, sh, sw], null, Attr.String("coordinate_transformation_mode", "asymmetric"),
            Attr.String("nearest_mode", "floor"))[0];
        int oh = (int)Math.Floor(h * sh), ow = (int)Math.Floor(w * sw);
        Assert.Equal([n, c, oh, ow], y.Shape.ToArray());
        var expected = new float[n * c * oh * ow];
        for (int b = 0, k = 0; b < n * c; b++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    expected[k++] = data[(b * h + Math.Min(h - 1, (int)Math.Floor(i / sh))) * w + Math.Min(w - 1, (int)Math.Floor(j / sw))];
        Assert.Equal(expected, y.ToArray<float>());
    }

    [Fact]
    public void Nearest_repeats_integers_by_a_whole_factor()
    {
        var y = OpTester.Run("Resize", [Attr.String("coordinate_transformation_mode", "asymmetric"), Attr.String("nearest_mode", "floor")],
            OpTester.L([1, 2, 3, 4], 1, 2, 2), null, OpTester.F([1, 2, 3], 3))[0];
        Assert.Equal([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4], y.ToArray<long>());
    }

    [Fact]
    public void Nearest_downsample_by_sizes()
    {
        // scale 2/3: x = (y + 0.5) * 1.5 - 0.5 = 0.25, 1.75.
        var y = Resize(OpTester.F([10, 20, 30], 3), null, [2])[0];
        OpTester.AssertClose([10, 30], y);
    }

    [Fact]
    public void Nearest_gathers_strings()
    {
        var x = Tensor.FromArray(new[] { "a", "b" }, 2);
        var y = OpTester.Run("Resize", [Attr.String("coordinate_transformation_mode", "asymmetric")], x, null, OpTester.F([2], 1))[0];
        Assert.Equal(["a", "a", "b", "b"], y.ToArray<string>());
    }

    [Fact]
    public void Cubic_asymmetric_uses_keys_kernel()
    {
        // A = -0.75: at fraction 0.5 the four weights are -0.09375, 0.59375, 0.59375, -0.09375.
        var y = Resize(OpTester.F([1, 2, 4, 8], 4), [2], null, Attr.String("mode", "cubic"), Attr.String("coordinate_transformation_mode", "asymmetric"))[0];
        var v = y.ToArray<float>();
        OpTester.AssertClose([1, 1.3125f, 2, 2.71875f], Tensor.FromArray(v[..4], 4));
    }

    [Fact]
    public void Cubic_exclude_outside_renormalises()
    {
        // At y = 1 the tap at -1 is outside: weights 0.59375, 0.59375, -0.09375 renormalised by 1.09375.
        var y = Resize(OpTester.F([1, 2, 4, 8], 4), [2], null, Attr.String("mode", "cubic"), Attr.Int("exclude_outside", 1),
            Attr.String("coordinate_transformation_mode", "asymmetric"))[0];
        Assert.Equal(1.40625 / 1.09375, y.ToArray<float>()[1], 5);
    }

    [Fact]
    public void Crop_and_resize_extrapolates_outside_the_input()
    {
        // x = 0.5 * 3 + y * 3 / 2 = 1.5, 3, 4.5; the last is past the end.
        var y = OpTester.Run("Resize", [Attr.String("mode", "linear"), Attr.String("coordinate_transformation_mode", "tf_crop_and_resize"), Attr.Float("extrapolation_value", -1)],
            OpTester.F([1, 2, 3, 4], 4), OpTester.F([0.5f, 1.5f], 2), null, OpTester.L([3], 1))[0];
        OpTester.AssertClose([2.5f, 4, -1], y);
    }

    [Fact]
    public void Uint8_linear_truncates_like_onnx_runtime()
    {
        // 0, 63.75, 191.25, 255 before the cast; ONNX Runtime truncates (ONNX's reference would round 63.75 up).
        var y = Resize(Tensor.FromArray(new byte[] { 0, 255 }, 2), [2], null, Attr.String("mode", "linear"))[0];
        Assert.Equal(new byte[] { 0, 63, 191, 255 }, y.ToArray<byte>());
        var s8 = Resize(Tensor.FromArray(new sbyte[] { 0, -101 }, 2), [2], null, Attr.String("mode", "linear"))[0];
        Assert.Equal(new sbyte[] { 0, -25, -75, -101 }, s8.ToArray<sbyte>()); // -25.25, -75.75 toward zero
    }

    [Fact]
    public void Antialias_linear_widens_the_filter_when_downsampling()
    {
        // scale 0.5: taps at distance (p - x) * 0.5 with tent weights .25, .75, .75, .25 normalised to sum 1.
        var y = Resize(OpTester.F([0, 4, 8, 12], 4), [0.5f], null, Attr.String("mode", "linear"), Attr.Int("antialias", 1))[0];
        OpTester.AssertClose([2.5f, 9.5f], y);
        var plain = Resize(OpTester.F([0, 4, 8, 12], 4), [0.5f], null, Attr.String("mode", "linear"))[0];
        OpTester.AssertClose([2, 10], plain);
    }

    [Fact]
    public void Keep_aspect_ratio_not_larger_uses_one_scale()
    {
        // sizes 3x3 on a 2x4 image: scale = min(1.5, 0.75) = 0.75 -> 2x3 (1.5 rounds half up).
        var x = OpTester.F(Enumerable.Range(0, 8).Select(i => (float)i).ToArray(), 1, 1, 2, 4);
        var y = OpTester.Run("Resize", [Attr.Ints("axes", [2, 3]), Attr.String("keep_aspect_ratio_policy", "not_larger")], x, null, null, OpTester.L([3, 3], 2))[0];
        Assert.Equal([1, 1, 2, 3], y.Shape.ToArray());
    }

    [Fact]
    public void Empty_batch_gives_empty_output()
    {
        var y = Resize(Tensor.FromArray(Array.Empty<float>(), 0, 1, 2, 2), [1, 1, 2, 2], null, Attr.String("mode", "linear"))[0];
        Assert.Equal([0, 1, 4, 4], y.Shape.ToArray());
    }

    [Fact]
    public void Upsample_7_takes_scales_from_attribute()
    {
        var y = OpTester.Run("Upsample", [Attr.Floats("scales", [1, 2])], outputCount: 1, opset: 7, domain: "", OpTester.F([1, 2], 1, 2))[0];
        OpTester.AssertClose([1, 1, 2, 2], y);
    }

    [Fact]
    public void Resize_10_nearest_downsample_rounds_up()
    {
        // Resize-10 maps asymmetrically; when downsampling the "simple" rule takes ceil(x): x = 0, 1.67, 3.33 -> 0, 2, 4.
        var y = OpTester.Run("Resize", [], outputCount: 1, opset: 10, domain: "", OpTester.F([1, 2, 3, 4, 5], 5), OpTester.F([0.6f], 1))[0];
        OpTester.AssertClose([1, 3, 5], y);
    }

    [Fact]
    public void Shape_rule_keeps_symbols_for_whole_scales()
    {
        var t = ImageInfer.Output("Resize", [], 19, [("x", ImageInfer.Type(DataType.Float, "[n,3,h,w]")), ("", null!), ("scales", ImageInfer.Type(DataType.Float, "[4]"))],
            new() { ["scales"] = OpTester.F([1, 1.5f, 2, 0.6f], 4) });
        Assert.NotNull(t);
        Assert.Equal("n", t!.Shape![0].ToString());
        Assert.Equal("4", t.Shape[1].ToString()); // floor(3 * 1.5)
        Assert.Equal("h*2", t.Shape[2].ToString());
        Assert.StartsWith("d__", t.Shape[3].ToString()); // 0.6 is no short binary fraction

        var half = ImageInfer.Output("Resize", [], 19, [("x", ImageInfer.Type(DataType.Float, "[w]")), ("", null!), ("scales", ImageInfer.Type(DataType.Float, "[1]"))],
            new() { ["scales"] = OpTester.F([0.5f], 1) });
        Assert.Equal("w/2", half!.Shape![0].ToString());
    }

    [Fact]
    public void Shape_rule_uses_symbolic_sizes_on_axes()
    {
        var t = ImageInfer.Output("Resize", [Attr.Ints("axes", [2, 3])], 19,
            [("x", ImageInfer.Type(DataType.UInt8, "[n,3,h,w]")), ("", null!), ("", null!), ("sizes", ImageInfer.Type(DataType.Int64, "[2]"))],
            new() { ["sizes"] = OpTester.L([5, 7], 2) });
        Assert.Equal(DataType.UInt8, t!.ElementType);
        Assert.Equal("[n,3,5,7]", t.Shape!.ToString());
    }
}
