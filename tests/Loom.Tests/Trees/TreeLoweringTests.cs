using Loom.Import.LightGbm;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Lowering.Trees;
using Loom.Tests.Support;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Trees;

/// <summary>
/// Tree ensembles lowered to Hummingbird's tensor programs (GEMM, TreeTraversal, PerfectTreeTraversal):
/// the rewritten model is plain ONNX, and ONNX Runtime scoring it, Loom scoring it, Loom's fused kernel
/// and LightGBM itself agree — on LightGBM models with NaNs, zeros and threshold-edge rows, and on
/// random ONNX-ML regressors and classifiers (every aggregate, post transform and binary rule).
/// </summary>
public class TreeLoweringTests
{
    private const int Cols = 8;
    private static readonly TreeStrategy[] Hummingbird = [TreeStrategy.Gemm, TreeStrategy.TreeTraversal, TreeStrategy.PerfectTreeTraversal];

    /// <summary>The model lowered with <paramref name="s"/>; null when the strategy does not fit (GEMM on deep trees), which only TreeTraversal may never do.</summary>
    private static Model? Lower(Model model, TreeStrategy s)
    {
        var log = new List<string>();
        var lowered = LowerTreeEnsembles.Run(model, s, log);
        if (ReferenceEquals(lowered, model) && s != TreeStrategy.TreeTraversal && log.Single().Contains("no tensor-program strategy fits")) return null;
        Assert.False(lowered.Graph.AllNodes().Any(n => n.Domain.Length > 0), string.Join("\n", log));
        Assert.Contains(s.ToString(), Assert.Single(log));
        return lowered;
    }

    /// <summary>LightGBM model → lowered ONNX: ONNX Runtime, Loom on the lowered file, and Loom fused all match LightGBM.</summary>
    private static void CheckLightGbm(string parameters, int classes, int outputs, int iterations = 25)
    {
        var (x, y) = TreeTestData.Make(1000, Cols, seed: 31, classes);
        using var booster = LightGbmNative.Train(x, y, 1000, Cols, "num_leaves=15 max_depth=4 learning_rate=0.2 min_data_in_leaf=5 verbose=-1 num_threads=1 seed=3 deterministic=true " + parameters, iterations);
        string text = booster.ModelText();
        var (test, _) = TreeTestData.Make(150, Cols, seed: 32, classes, nanRate: 0.15, zeroRate: 0.15);
        var edges = TreeTestData.EdgeRows(text, test, Cols, out int edgeRows);
        var all = test.Concat(edges).ToArray();
        int rows = 150 + edgeRows;
        var expected = booster.Predict(all, rows, Cols, outputs);
        var model = LightGbmImporter.Parse(text, "fixture.txt");
        var fused = TreeTestData.RunLoom(OnnxExporter.ToBytes(model), all, rows, Cols, TreeStrategy.Auto);
        TreeTestData.AssertMatches(expected, fused, $"{parameters} / fused");
        foreach (var s in Hummingbird)
        {
            if (Lower(model, s) is not { } lowered) continue;
            var bytes = OnnxExporter.ToBytes(lowered);
            var ort = OrtOracle.Run(bytes, new Dictionary<string, Tensor> { ["features"] = Tensor.FromArray(all, rows, Cols) })["predictions"].Data;
            TreeTestData.AssertMatches(expected, ort, $"{parameters} / {s} in onnxruntime");
            TreeTestData.AssertMatches(fused.Select(v => (double)v).ToArray(), ort, $"{parameters} / {s} in onnxruntime vs loom fused");
            TreeTestData.AssertMatches(expected, TreeTestData.RunLoom(bytes, all, rows, Cols, TreeStrategy.Auto), $"{parameters} / {s} in loom");
        }
    }

    [Fact]
    public void Regression_with_nan_and_threshold_edges() => CheckLightGbm("objective=regression", 0, 1);

    [Fact]
    public void Regression_with_zero_as_missing() => CheckLightGbm("objective=regression zero_as_missing=true", 0, 1);

    [Fact]
    public void Binary_probabilities() => CheckLightGbm("objective=binary", 2, 1);

    [Fact]
    public void Multiclass_softmax() => CheckLightGbm("objective=multiclass num_class=3", 3, 3, iterations: 10);

    /// <summary>ONNX Runtime on the original node vs ONNX Runtime and Loom on each lowering.</summary>
    private static void CheckRandom(string op, List<Attr> attrs, (string, IrType)[] outputs, bool classifier, int seed)
    {
        var original = OnnxMlTreeTests.ModelOf(op, attrs, outputs);
        const int rows = 120;
        var x = OnnxMlTreeTests.Inputs(new Random(seed), rows);
        var (expected, labels) = OnnxMlTreeTests.Ort(original, x, rows, classifier);
        var model = OnnxImporter.Load(original);
        foreach (var s in Hummingbird)
        {
            var bytes = OnnxExporter.ToBytes(Lower(model, s)!);
            var (ort, ortLabels) = OnnxMlTreeTests.Ort(bytes, x, rows, classifier);
            TreeTestData.AssertMatches(expected.Select(e => (double)e).ToArray(), ort, $"{op} {s} in onnxruntime");
            Assert.Equal(labels, ortLabels);
            using var session = LoomSession.Load(bytes, new LoomSessionOptions { VerifyInferredShapes = true });
            using var result = session.Run(("X", Tensor.FromArray(x, rows, OnnxMlTreeTests.Features)));
            TreeTestData.AssertMatches(expected.Select(e => (double)e).ToArray(), ((Tensor)result[classifier ? 1 : 0].Value).ToArray<float>(), $"{op} {s} in loom");
            if (labels is not null) Assert.Equal(labels, ((Tensor)result[0].Value).ToArray<long>());
        }
    }

    [Theory]
    [InlineData("SUM", "NONE", 1)]
    [InlineData("AVERAGE", "NONE", 2)]
    [InlineData("MIN", "NONE", 3)]
    [InlineData("MAX", "LOGISTIC", 2)]
    [InlineData("SUM", "SOFTMAX", 3)]
    [InlineData("SUM", "SOFTMAX_ZERO", 3)]
    [InlineData("SUM", "PROBIT", 1)]
    public void Random_regressors_match_onnx_runtime(string aggregate, string post, int targets)
    {
        var rng = new Random(aggregate.Length * 13 + post.Length + targets);
        var attrs = OnnxMlTreeTests.RandomTrees(rng, 10, OnnxMlTreeTests.Modes[..4], "target_", targets, oneTargetPerLeaf: false, positive: post == "PROBIT");
        attrs.AddRange([Attr.Int("n_targets", targets), Attr.String("aggregate_function", aggregate), Attr.String("post_transform", post)]);
        if (post == "PROBIT")
        {
            int weights = attrs.First(a => a.Name == "target_ids").AsInts().Length;
            attrs.RemoveAll(a => a.Name == "target_weights");
            attrs.Add(Attr.Floats("target_weights", Enumerable.Range(0, weights).Select(i => 0.01f + 0.002f * (i % 5))));
        }
        if (aggregate is "SUM" or "AVERAGE") attrs.Add(Attr.Floats("base_values", Enumerable.Range(0, targets).Select(k => k * 0.25f + 0.5f)));
        CheckRandom("TreeEnsembleRegressor", attrs, [("Y", new TensorType(DataType.Float, null))], classifier: false, seed: targets);
    }

    [Theory]
    [InlineData(3, "NONE", 3, false)]
    [InlineData(3, "SOFTMAX", 0, false)]
    [InlineData(4, "LOGISTIC", 4, true)]
    [InlineData(2, "NONE", 0, true)]
    [InlineData(2, "NONE", 0, false)]
    [InlineData(2, "LOGISTIC", 0, false)]
    [InlineData(2, "LOGISTIC", 1, false)]
    [InlineData(2, "NONE", 2, true)]
    public void Random_classifiers_match_onnx_runtime(int classes, string post, int baseValues, bool positive)
    {
        var rng = new Random(classes * 100 + baseValues * 10 + post.Length);
        var attrs = OnnxMlTreeTests.RandomTrees(rng, 8, OnnxMlTreeTests.Modes[..4], "class_", classes == 2 ? 1 : classes, oneTargetPerLeaf: classes == 2, positive);
        attrs.AddRange([Attr.Ints("classlabels_int64s", Enumerable.Range(0, classes).Select(k => (long)(k * 10 + 5))), Attr.String("post_transform", post)]);
        if (baseValues > 0) attrs.Add(Attr.Floats("base_values", Enumerable.Range(0, baseValues).Select(k => 0.1f * (k + 1))));
        CheckRandom("TreeEnsembleClassifier", attrs, [("label", new TensorType(DataType.Int64, null)), ("scores", new TensorType(DataType.Float, null))], classifier: true, seed: classes + baseValues);
    }

    [Fact]
    public void Each_strategy_is_written_with_its_own_operators()
    {
        var model = LightGbmImporter.Parse(TreeLoweringTestModels.PerfectTrees(3, 3), "perfect.txt");
        string Ops(TreeStrategy s) => string.Join(" ", Lower(model, s)!.Graph.Nodes.Select(n => n.OpType).Distinct().Order());
        Assert.Contains("MatMul", Ops(TreeStrategy.Gemm));
        Assert.Contains("Equal", Ops(TreeStrategy.Gemm));
        Assert.Contains("GatherElements", Ops(TreeStrategy.TreeTraversal));
        Assert.Contains("Where", Ops(TreeStrategy.TreeTraversal));
        Assert.Contains("Mul", Ops(TreeStrategy.PerfectTreeTraversal));
        Assert.DoesNotContain("Where", Ops(TreeStrategy.PerfectTreeTraversal)); // index arithmetic, no child lookup
    }

    [Fact]
    public void Session_option_lowers_before_the_other_passes_and_keeps_answers()
    {
        var text = TreeLoweringTestModels.PerfectTrees(20, 5);
        var bytes = OnnxExporter.ToBytes(LightGbmImporter.Parse(text, "perfect.txt"));
        var x = OnnxMlTreeTests.Inputs(new Random(3), 64 * 2).Take(64 * Cols).Select(Math.Abs).ToArray();
        var fused = TreeTestData.RunLoom(bytes, x, 64, Cols, TreeStrategy.Auto);
        foreach (var s in Hummingbird.Append(TreeStrategy.Auto))
        {
            using var session = LoomSession.Load(bytes, new LoomSessionOptions { TreeLowering = TreeLowering.TensorProgram, TreeStrategy = s, VerifyInferredShapes = true });
            Assert.DoesNotContain(session.Model.Graph.Nodes, LowerTreeEnsembles.IsTreeNode);
            using var result = session.Run(("features", Tensor.FromArray(x, 64, Cols)));
            TreeTestData.AssertMatches(fused.Select(v => (double)v).ToArray(), ((Tensor)result[0].Value).ToArray<float>(), $"session {s}");
        }
    }

    [Fact]
    public void Categorical_splits_stay_fused_with_the_reason()
    {
        var (x, y) = TreeTestData.Make(500, Cols, seed: 5);
        using var booster = LightGbmNative.Train(x, y, 500, Cols, "objective=regression categorical_feature=0 max_cat_to_onehot=2 min_data_per_group=5 verbose=-1 num_threads=1", 5, "categorical_feature=0");
        var model = LightGbmImporter.Parse(booster.ModelText(), "cat.txt");
        var log = new List<string>();
        Assert.Same(model, LowerTreeEnsembles.Run(model, TreeStrategy.Gemm, log));
        Assert.Contains("set-membership", Assert.Single(log));
    }
}

/// <summary>Small LightGBM model texts for the lowering tests.</summary>
internal static class TreeLoweringTestModels
{
    /// <summary>Random perfect trees over 8 features in [0, 1] (the bench's generator, smaller).</summary>
    public static string PerfectTrees(int trees, int depth) =>
        SyntheticTrees.ModelText(trees, depth, seed: trees * 7 + depth, features: 8);
}
