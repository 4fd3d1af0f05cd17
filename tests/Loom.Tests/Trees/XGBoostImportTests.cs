using Loom.Import.Onnx;
using Loom.Import.XGBoost;
using Loom.Lowering.Trees;

namespace Loom.Tests.Trees;

/// <summary>
/// Hand-written XGBoost JSON models (written from the format: node arrays, split_conditions holding
/// leaf values, default_left, tree_info, base_score) with predictions computed by hand: x &lt; c goes
/// left (a value equal to c goes right), a missing value goes the default way.
/// </summary>
public class XGBoostImportTests
{
    private static string Tree(string left, string right, string index, string cond, string defaultLeft) =>
        $$"""{"left_children":[{{left}}],"right_children":[{{right}}],"split_indices":[{{index}}],"split_conditions":[{{cond}}],"default_left":[{{defaultLeft}}],"split_type":[{{string.Join(",", left.Split(',').Select(_ => "0"))}}]}""";

    private static string Model(string objective, string baseScore, int features, int classes, string[] trees, int[] treeInfo) =>
        "{\"learner\":{\"learner_model_param\":{\"base_score\":\"" + baseScore + "\",\"num_class\":\"" + classes + "\",\"num_feature\":\"" + features
        + "\",\"num_target\":\"1\"},\"objective\":{\"name\":\"" + objective + "\"},\"gradient_booster\":{\"name\":\"gbtree\",\"model\":{\"trees\":["
        + string.Join(",", trees) + "],\"tree_info\":[" + string.Join(",", treeInfo) + "]}}},\"version\":[2,1,0]}";

    private static float[] Score(string json, float[] x, int cols)
    {
        var bytes = OnnxExporter.ToBytes(XGBoostImporter.Parse(json, "fixture.json"));
        var results = Enum.GetValues<TreeStrategy>().Select(s => TreeTestData.RunLoom(bytes, x, x.Length / cols, cols, s)).ToArray();
        foreach (var r in results) Assert.Equal(results[0], r); // every strategy agrees exactly
        return results[0];
    }

    // Tree 0: x0 < 0.5 (missing left) ? 0.1 : (x1 < 1.0 (missing right) ? -0.2 : 0.3).  Tree 1: a single leaf 0.05.
    private static readonly string[] RegressionTrees =
    [
        Tree("1,-1,3,-1,-1", "2,-1,4,-1,-1", "0,0,1,0,0", "0.5,0.1,1.0,-0.2,0.3", "1,0,0,0,0"),
        Tree("-1", "-1", "0", "0.05", "0"),
    ];

    [Fact]
    public void Squared_error_adds_base_score_and_sends_equal_values_right()
    {
        float nan = float.NaN;
        var y = Score(Model("reg:squarederror", "5E-1", 2, 0, RegressionTrees, [0, 0]),
            [0.2f, 5, /**/ 0.5f, 0.9f, /**/ nan, 2, /**/ 0.7f, nan, /**/ 0.7f, 1.0f], 2);
        // 0.1+0.05+0.5; x0 = 0.5 is not < 0.5: -0.2+0.55; NaN left: 0.65; x1 NaN right: 0.3+0.55; x1 = 1.0 right: 0.85.
        TreeTestData.AssertMatches([0.65, 0.35, 0.65, 0.85, 0.85], y, "reg:squarederror");
    }

    [Fact]
    public void Binary_logistic_takes_the_logit_of_base_score()
    {
        // x2 < -1.5 (missing right) ? -1 : 2
        string[] trees = [Tree("1,-1,-1", "2,-1,-1", "2,0,0", "-1.5,-1,2", "0,0,0")];
        float nan = float.NaN;
        var y = Score(Model("binary:logistic", "5E-1", 3, 0, trees, [0]), [0, 0, -2, /**/ 0, 0, -1.5f, /**/ 0, 0, nan], 3);
        TreeTestData.AssertMatches([0.2689414213699951, 0.8807970779778823, 0.8807970779778823], y, "binary:logistic base 0.5");
        // base_score 0.2: margin log(0.25) added: sigmoid(2 + ln 0.25).
        var y2 = Score(Model("binary:logistic", "[2E-1]", 3, 0, trees, [0]), [0, 0, 0], 3);
        TreeTestData.AssertMatches([0.6487856442839393], y2, "binary:logistic base 0.2");
    }

    [Fact]
    public void Multi_softprob_assigns_trees_to_classes_by_tree_info()
    {
        string[] trees =
        [
            Tree("1,-1,-1", "2,-1,-1", "0,0,0", "0,0.3,-0.1", "0,0,0"),  // class 0: x0 < 0 ? 0.3 : -0.1
            Tree("1,-1,-1", "2,-1,-1", "1,0,0", "1,-0.2,0.4", "0,0,0"),  // class 1: x1 < 1 ? -0.2 : 0.4
            Tree("-1", "-1", "0", "0.05", "0"),                           // class 2: 0.05
            Tree("1,-1,-1", "2,-1,-1", "0,0,0", "0,0.1,0.0", "0,0,0"),   // class 0: x0 < 0 ? 0.1 : 0
            Tree("-1", "-1", "0", "-0.05", "0"),                          // class 1: -0.05
            Tree("1,-1,-1", "2,-1,-1", "1,0,0", "1,0.2,-0.3", "1,0,0"),  // class 2: x1 < 1 (missing left) ? 0.2 : -0.3
        ];
        float nan = float.NaN;
        var y = Score(Model("multi:softprob", "5E-1", 2, 3, trees, [0, 1, 2, 0, 1, 2]), [-1, 0, /**/ 0, 1, /**/ nan, nan], 2);
        TreeTestData.AssertMatches(
        [
            0.4196824781674819, 0.2190934653079312, 0.36122405652458683,
            0.2916284981659208, 0.45736452730981086, 0.2510069745242684,
            0.2507912631074925, 0.39331899394595143, 0.35588974294655595,
        ], y, "multi:softprob");
    }

    [Fact]
    public void Unsupported_objective_and_categorical_splits_are_named()
    {
        var e = Assert.Throws<UnsupportedException>(() => XGBoostImporter.Parse(Model("rank:pairwise", "0", 2, 0, RegressionTrees, [0, 0]), "r.json"));
        Assert.Contains("r.json", e.Message);
        Assert.Contains("rank:pairwise", e.Message);
        var cat = Model("reg:squarederror", "0", 2, 0, [RegressionTrees[0].Replace("\"split_type\":[0,0,0,0,0]", "\"split_type\":[1,0,0,0,0]")], [0]);
        Assert.Contains("categorical", Assert.Throws<UnsupportedException>(() => XGBoostImporter.Parse(cat, "c.json")).Message);
        Assert.Throws<ModelFormatException>(() => XGBoostImporter.Parse("{\"learner\":{}}", "x.json"));
    }
}
