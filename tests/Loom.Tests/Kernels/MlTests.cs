using Loom.Tests.Support;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class MlTests
{
    private const string Ml = "ai.onnx.ml";

    private static Tensor Run(string op, int opset, Attr[] attrs, params Tensor[] inputs) => OpTester.Run(op, attrs, 1, opset, Ml, inputs)[0];

    [Fact]
    public void Binarizer_strictly_greater()
    {
        var y = Run("Binarizer", 1, [Attr.Float("threshold", 0.5f)], OpTester.F([0.2f, 0.5f, 0.7f, -1], 4));
        OpTester.AssertClose([0, 0, 1, 0], y);
        var ints = Run("Binarizer", 1, [Attr.Float("threshold", 1)], Tensor.FromArray(new[] { 0, 1, 2 }, 3));
        Assert.Equal([0, 0, 1], ints.ToArray<int>());
    }

    [Fact]
    public void ArrayFeatureExtractor_selects_last_axis_columns()
    {
        var y = Run("ArrayFeatureExtractor", 1, [], OpTester.F([0, 1, 2, 3, 4, 5], 2, 3), OpTester.L([2, 0], 2));
        Assert.Equal([2, 2], y.Shape.ToArray());
        OpTester.AssertClose([2, 0, 5, 3], y);
        var strings = Run("ArrayFeatureExtractor", 1, [], Tensor.FromArray(new[] { "x", "y", "z" }, 3), OpTester.L([1], 1));
        Assert.Equal([1, 1], strings.Shape.ToArray());
        Assert.Equal(["y"], strings.ToArray<string>());
    }

    [Fact]
    public void LabelEncoder_int_keys_to_floats_with_default()
    {
        var y = Run("LabelEncoder", 2, [Attr.Ints("keys_int64s", [1, 2, 1]), Attr.Floats("values_floats", [10, 20, 30]), Attr.Float("default_float", -5)],
            OpTester.L([1, 2, 3], 3));
        OpTester.AssertClose([30, 20, -5], y); // the repeated key 1 takes its last value
    }

    [Fact]
    public void LabelEncoder_float_keys_match_nan()
    {
        var y = Run("LabelEncoder", 4, [Attr.Floats("keys_floats", [float.NaN, 1.5f]), Attr.Strings("values_strings", ["nan", "one and a half"])],
            OpTester.F([1.5f, float.NaN, 2], 3));
        Assert.Equal(["one and a half", "nan", "_Unused"], y.ToArray<string>());
    }

    [Fact]
    public void LabelEncoder_opset1_maps_strings_to_indices_and_back()
    {
        var toInt = Run("LabelEncoder", 1, [Attr.Strings("classes_strings", ["a", "b"]), Attr.Int("default_int64", 7)], Tensor.FromArray(new[] { "b", "q" }, 2));
        Assert.Equal([1L, 7], toInt.ToArray<long>());
        var toString = Run("LabelEncoder", 1, [Attr.Strings("classes_strings", ["a", "b"]), Attr.String("default_string", "?")], OpTester.L([0, 5], 2));
        Assert.Equal(["a", "?"], toString.ToArray<string>());
    }

    // One split x0 <= 0.5: true -> leaf 0 (weight 1, target 0), false -> leaf 1 (weight 3, target 1).
    private static Attr[] Tree(long aggregate, long post, long[] roots) =>
    [
        Attr.Int("n_targets", 2), Attr.Int("aggregate_function", aggregate), Attr.Int("post_transform", post), Attr.Ints("tree_roots", roots),
        Attr.Tensor("nodes_modes", Tensor.FromArray(new byte[] { 0 }, 1)), Attr.Ints("nodes_featureids", [0]),
        Attr.Tensor("nodes_splits", OpTester.F([0.5f], 1)), Attr.Ints("nodes_truenodeids", [0]), Attr.Ints("nodes_trueleafs", [1]),
        Attr.Ints("nodes_falsenodeids", [1]), Attr.Ints("nodes_falseleafs", [1]),
        Attr.Ints("leaf_targetids", [0, 1]), Attr.Tensor("leaf_weights", OpTester.F([1, 3], 2)),
    ];

    [Fact]
    public void TreeEnsemble_sum_and_average_over_trees()
    {
        var x = OpTester.F([0, 1], 2, 1);
        OpTester.AssertClose([2, 0, 0, 6], Run("TreeEnsemble", 5, Tree(1, 0, [0, 0]), x));
        OpTester.AssertClose([1, 0, 0, 3], Run("TreeEnsemble", 5, Tree(0, 0, [0, 0]), x));
    }

    [Fact]
    public void TreeEnsemble_min_leaves_unreached_targets_at_zero()
    {
        OpTester.AssertClose([1, 0], Run("TreeEnsemble", 5, Tree(2, 0, [0]), OpTester.F([0], 1, 1)));
    }

    [Fact]
    public void TreeEnsemble_softmax_post_transform()
    {
        // Scores [1, 0] -> [e / (e + 1), 1 / (e + 1)].
        OpTester.AssertClose([0.7310586f, 0.2689414f], Run("TreeEnsemble", 5, Tree(1, 1, [0]), OpTester.F([0], 1, 1)));
    }

    [Fact]
    public void TreeEnsemble_nan_follows_missing_track()
    {
        var attrs = Tree(1, 0, [0]).Append(Attr.Ints("nodes_missing_value_tracks_true", [1])).ToArray();
        OpTester.AssertClose([1, 0], Run("TreeEnsemble", 5, attrs, OpTester.F([float.NaN], 1, 1)));
        OpTester.AssertClose([0, 3], Run("TreeEnsemble", 5, Tree(1, 0, [0]), OpTester.F([float.NaN], 1, 1)));
    }

    [Fact]
    public void Empty_inputs()
    {
        var tree = Run("TreeEnsemble", 5, Tree(1, 0, [0]), Tensor.FromArray(Array.Empty<float>(), 0, 1));
        Assert.Equal([0, 2], tree.Shape.ToArray());
        var labels = Run("LabelEncoder", 2, [Attr.Strings("keys_strings", ["a"]), Attr.Ints("values_int64s", [1])], Tensor.FromArray(Array.Empty<string>(), 0));
        Assert.Equal([0], labels.Shape.ToArray());
        var columns = Run("ArrayFeatureExtractor", 1, [], OpTester.F([1, 2], 1, 2), Tensor.FromArray(Array.Empty<long>(), 0));
        Assert.Equal([1, 0], columns.Shape.ToArray());
    }
}
