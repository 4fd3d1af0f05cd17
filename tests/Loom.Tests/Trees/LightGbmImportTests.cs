using Loom.Import.LightGbm;
using Loom.Import.Onnx;
using Loom.Lowering.Trees;
using Loom.Tests.Support;

namespace Loom.Tests.Trees;

/// <summary>
/// Real LightGBM models, trained here with LightGBM's native library on generated data, imported and
/// scored by Loom with every strategy; predictions must match LightGBM's own within 1e-5 relative,
/// on data with NaNs, zeros, and values exactly at (and one float either side of) every threshold.
/// </summary>
public class LightGbmImportTests
{
    private const int Cols = 8;
    private const string Common = "num_leaves=15 max_depth=4 learning_rate=0.2 min_data_in_leaf=5 verbose=-1 num_threads=1 seed=3 deterministic=true";

    private static readonly TreeStrategy[] AllStrategies = Enum.GetValues<TreeStrategy>();

    /// <summary>Trains, imports, and checks every strategy against LightGBM on random rows plus threshold-edge rows.</summary>
    private static void Check(string parameters, int classes, int outputsPerRow, int iterations = 40, string datasetParameters = "", int numIteration = 0)
    {
        var (x, y) = TreeTestData.Make(1500, Cols, seed: 11, classes);
        using var booster = LightGbmNative.Train(x, y, 1500, Cols, Common + " " + parameters, iterations, datasetParameters);
        string text = booster.ModelText();
        var (test, _) = TreeTestData.Make(300, Cols, seed: 12, classes, nanRate: 0.15, zeroRate: 0.15);
        var edges = TreeTestData.EdgeRows(text, test, Cols, out int edgeRows);
        var all = test.Concat(edges).ToArray();
        int rows = 300 + edgeRows;
        var expected = booster.Predict(all, rows, Cols, outputsPerRow, numIteration > 0 ? numIteration : -1);
        var model = OnnxExporter.ToBytes(LightGbmImporter.Parse(text, "fixture.txt", numIteration));
        var forest = FlatForest.From(Lowering.Trees.TreeEnsembleParser.Parse(LightGbmImporter.Parse(text, "fixture.txt", numIteration).Graph.Nodes[0], m => new GraphException(m)));
        foreach (var s in AllStrategies.Where(s => StrategyHeuristic.Applies(s, forest)))
        {
            TreeTestData.AssertMatches(expected, TreeTestData.RunLoom(model, all, rows, Cols, s), $"{parameters} / {s}");
            TreeTestData.AssertMatches(expected, TreeTestData.RunLoom(model, all[..Cols], 1, Cols, s, threads: 2).Concat(
                TreeTestData.RunLoom(model, all[Cols..], rows - 1, Cols, s, threads: 1)).ToArray(), $"{parameters} / {s} (1 row, then rows-1 on 1 thread)");
        }
    }

    [Fact]
    public void Regression_with_nan_and_threshold_edges() => Check("objective=regression", 0, 1);

    [Fact]
    public void Regression_without_missing_handling_reads_nan_as_zero() => Check("objective=regression use_missing=false", 0, 1);

    [Fact]
    public void Regression_with_zero_as_missing() => Check("objective=regression zero_as_missing=true", 0, 1);

    [Fact]
    public void Binary_probabilities() => Check("objective=binary", 2, 1);

    [Fact]
    public void Binary_with_sigmoid_parameter() => Check("objective=binary sigmoid=0.7", 2, 1);

    [Fact]
    public void Multiclass_softmax() => Check("objective=multiclass num_class=3", 3, 3, iterations: 20);

    [Fact]
    public void Multiclass_one_vs_all() => Check("objective=multiclassova num_class=3", 3, 3, iterations: 20);

    [Fact]
    public void Categorical_splits() => Check("objective=regression categorical_feature=0 max_cat_to_onehot=2 cat_smooth=1 min_data_per_group=5", 0, 1, datasetParameters: "categorical_feature=0");

    [Fact]
    public void Num_iteration_keeps_the_first_rounds() => Check("objective=binary", 2, 1, iterations: 30, numIteration: 7);

    [Fact]
    public void Deep_trees_with_many_leaves() => Check("objective=regression num_leaves=200 max_depth=-1 min_data_in_leaf=2", 0, 1, iterations: 10);

    [Fact]
    public void Scalar_walk_without_avx2_matches()
    {
        // Both walks give identical leaves, so flipping the switch cannot disturb tests running alongside.
        InterleavedProgram.UseAvx2 = false;
        try
        {
            Check("objective=multiclass num_class=3", 3, 3, iterations: 10);
            Check("objective=regression categorical_feature=0 max_cat_to_onehot=2 cat_smooth=1 min_data_per_group=5", 0, 1, iterations: 10, datasetParameters: "categorical_feature=0");
        }
        finally { InterleavedProgram.UseAvx2 = true; }
    }

    [Fact]
    public void Linear_trees_are_refused_clearly()
    {
        var (x, y) = TreeTestData.Make(300, Cols, seed: 5, nanRate: 0);
        using var booster = LightGbmNative.Train(x, y, 300, Cols, Common + " objective=regression linear_tree=true", 3);
        var e = Assert.Throws<UnsupportedException>(() => LightGbmImporter.Parse(booster.ModelText(), "linear.txt"));
        Assert.Contains("linear.txt", e.Message);
        Assert.Contains("linear trees", e.Message);
    }

    [Fact]
    public void Infinite_thresholds_as_LightGBM_prints_them_are_read()
    {
        // LightGBM writes threshold=inf for some splits of features with NaNs; make one such split by hand
        // and let LightGBM itself score the edited text as the oracle.
        var (x, y) = TreeTestData.Make(600, Cols, seed: 31, nanRate: 0);
        using var trained = LightGbmNative.Train(x, y, 600, Cols, Common + " objective=regression", 5);
        var text = trained.ModelText();
        int at = text.IndexOf("\nthreshold=", StringComparison.Ordinal) + "\nthreshold=".Length;
        int end = text.IndexOfAny([' ', '\n'], at);
        text = text[..at] + "inf" + text[end..];
        // The header's tree_sizes (bytes per tree) no longer hold; without them LightGBM reads trees in sequence.
        text = string.Join('\n', text.Split('\n').Where(l => !l.StartsWith("tree_sizes=", StringComparison.Ordinal)));
        using var edited = LightGbmNative.Load(text);
        var (test, _) = TreeTestData.Make(200, Cols, seed: 32, nanRate: 0.1);
        var expected = edited.Predict(test, 200, Cols, 1);
        using var session = LoomSession.Create(LightGbmImporter.Parse(text, "inf.txt"));
        using var result = session.Run(("features", Tensor.FromArray(test, 200, Cols)));
        TreeTestData.AssertMatches(expected, result.Tensor("predictions").ToArray<float>(), "loom", rel: 1e-5);
    }

    [Fact]
    public void Malformed_model_names_the_file_and_tree()
    {
        var e = Assert.Throws<ModelFormatException>(() => LightGbmImporter.Parse("tree\nmax_feature_idx=3\n\nTree=0\nnum_leaves=2\nleaf_value=1 2\nsplit_feature=0\n", "bad.txt"));
        Assert.Contains("bad.txt: tree 0", e.Message);
    }

    [Fact]
    public void Onnx_runtime_scores_the_exported_model_like_lightgbm()
    {
        var (x, y) = TreeTestData.Make(1500, Cols, seed: 21);
        using var booster = LightGbmNative.Train(x, y, 1500, Cols, Common + " objective=regression", 30);
        var (test, _) = TreeTestData.Make(200, Cols, seed: 22, nanRate: 0.1);
        var expected = booster.Predict(test, 200, Cols, 1);
        var ort = OrtOracle.Run(OnnxExporter.ToBytes(LightGbmImporter.Parse(booster.ModelText())), new Dictionary<string, Tensor> { ["features"] = Tensor.FromArray(test, 200, Cols) });
        // ONNX Runtime adds leaves in float32, hence the looser bound.
        TreeTestData.AssertMatches(expected, ort["predictions"].Data, "onnxruntime", rel: 1e-4);
    }
}
