using Loom.Import.Onnx;
using Loom.IR;
using Loom.Lowering.Trees;
using Loom.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Trees;

/// <summary>
/// Random TreeEnsembleRegressor/Classifier nodes (every node mode, missing tracks, post transforms,
/// aggregates, base values, binary and multiclass classifiers) scored by Loom with every strategy and
/// by ONNX Runtime on the same bytes.
/// </summary>
public class OnnxMlTreeTests
{
    internal const int Features = 4;
    internal static readonly string[] Modes = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"];

    /// <summary>Random trees of depth up to 4; thresholds from a small grid so inputs hit them exactly.</summary>
    internal static List<Attr> RandomTrees(Random rng, int trees, string[] modes, string weightPrefix, int targets, bool oneTargetPerLeaf, bool positive)
    {
        var t = new List<long>(); var id = new List<long>(); var f = new List<long>(); var m = new List<string>(); var v = new List<float>();
        var miss = new List<long>(); var yes = new List<long>(); var no = new List<long>();
        var wt = new List<long>(); var wn = new List<long>(); var wi = new List<long>(); var ww = new List<float>();
        for (int tree = 0; tree < trees; tree++)
        {
            int next = 1;
            var stack = new Stack<(int Id, int Depth)>();
            stack.Push((0, 0));
            while (stack.Count > 0)
            {
                var (node, depth) = stack.Pop();
                t.Add(tree); id.Add(node);
                if (depth >= 4 || (depth > 0 && rng.NextDouble() < 0.25))
                {
                    f.Add(0); m.Add("LEAF"); v.Add(0); miss.Add(0); yes.Add(0); no.Add(0);
                    int count = oneTargetPerLeaf ? 1 : 1 + rng.Next(targets);
                    for (int k = 0; k < count; k++)
                    {
                        wt.Add(tree); wn.Add(node); wi.Add(oneTargetPerLeaf ? tree % targets : rng.Next(targets));
                        ww.Add((float)Math.Round(positive ? rng.NextDouble() : rng.NextDouble() * 2 - 1, 3));
                    }
                    continue;
                }
                int a = next++, b = next++;
                f.Add(rng.Next(Features)); m.Add(modes[rng.Next(modes.Length)]); v.Add(rng.Next(-4, 5) * 0.5f);
                miss.Add(rng.Next(2)); yes.Add(a); no.Add(b);
                stack.Push((b, depth + 1));
                stack.Push((a, depth + 1));
            }
        }
        return
        [
            Attr.Ints("nodes_treeids", t), Attr.Ints("nodes_nodeids", id), Attr.Ints("nodes_featureids", f), Attr.Strings("nodes_modes", m),
            Attr.Floats("nodes_values", v), Attr.Ints("nodes_missing_value_tracks_true", miss), Attr.Ints("nodes_truenodeids", yes),
            Attr.Ints("nodes_falsenodeids", no), Attr.Ints(weightPrefix + "treeids", wt), Attr.Ints(weightPrefix + "nodeids", wn),
            Attr.Ints(weightPrefix + "ids", wi), Attr.Floats(weightPrefix + "weights", ww),
        ];
    }

    internal static byte[] ModelOf(string op, List<Attr> attrs, (string Name, IrType Type)[] outputs)
    {
        var n = Dim.Symbol("N");
        var node = new Node(op, ["X"], outputs.Select(o => o.Name), attrs, "trees", "ai.onnx.ml");
        var graph = new Graph("g", [new ValueInfo("X", new TensorType(DataType.Float, new Shape([n, Dim.Of(Features)])))],
            outputs.Select(o => new ValueInfo(o.Name, o.Type)), [node]);
        return OnnxExporter.ToBytes(new Model(graph, new Dictionary<string, int> { [""] = 13, ["ai.onnx.ml"] = 3 }, irVersion: 8));
    }

    /// <summary>Inputs on the threshold grid, between grid points, and NaN.</summary>
    internal static float[] Inputs(Random rng, int rows)
    {
        var x = new float[rows * Features];
        for (int i = 0; i < x.Length; i++)
            x[i] = rng.Next(10) switch { 0 => float.NaN, < 6 => rng.Next(-4, 5) * 0.5f, _ => (float)(rng.NextDouble() * 5 - 2.5) };
        return x;
    }

    internal static (float[] Scores, long[]? Labels) Ort(byte[] model, float[] x, int rows, bool classifier)
    {
        using var session = new InferenceSession(model);
        using var input = OrtValue.CreateTensorValueFromMemory(x, [rows, Features]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["X"], [input], session.OutputNames);
        return classifier
            ? (outputs[1].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorDataAsSpan<long>().ToArray())
            : (outputs[0].GetTensorDataAsSpan<float>().ToArray(), null);
    }

    private static void Compare(byte[] model, int rows, bool classifier, int seed, string what)
    {
        var x = Inputs(new Random(seed), rows);
        var (expected, labels) = Ort(model, x, rows, classifier);
        foreach (var s in Enum.GetValues<TreeStrategy>())
        {
            using var session = LoomSession.Load(model, new LoomSessionOptions { TreeStrategy = s, VerifyInferredShapes = true });
            using var result = session.Run(("X", Tensor.FromArray(x, rows, Features)));
            var scores = ((Tensor)result[classifier ? 1 : 0].Value).ToArray<float>();
            TreeTestData.AssertMatches(expected.Select(e => (double)e).ToArray(), scores, $"{what} / {s}", rel: 1e-5);
            if (labels is not null) Assert.Equal(labels, ((Tensor)result[0].Value).ToArray<long>());
        }
    }

    public static TheoryData<string, string, int> RegressorCases => new()
    {
        { "SUM", "NONE", 1 }, { "AVERAGE", "NONE", 2 }, { "MIN", "NONE", 3 }, { "MAX", "NONE", 2 },
        { "SUM", "LOGISTIC", 3 }, { "SUM", "SOFTMAX", 3 }, { "SUM", "SOFTMAX_ZERO", 3 }, { "SUM", "PROBIT", 1 },
    };

    [Theory]
    [MemberData(nameof(RegressorCases))]
    public void Regressor_matches_onnx_runtime(string aggregate, string post, int targets)
    {
        var rng = new Random(aggregate.Length * 31 + post.Length * 7 + targets);
        foreach (var modes in new[] { Modes, ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT"] })
        {
            var attrs = RandomTrees(rng, 12, modes, "target_", targets, oneTargetPerLeaf: false, positive: post == "PROBIT");
            attrs.AddRange([Attr.Int("n_targets", targets), Attr.String("aggregate_function", aggregate), Attr.String("post_transform", post)]);
            if (post == "PROBIT") attrs.RemoveAll(a => a.Name == "target_weights"); // probit needs scores in (0, 1): average of weights in [0, 1)
            if (post == "PROBIT") attrs.Add(Attr.Floats("target_weights", Enumerable.Repeat(0.01f, attrs.First(a => a.Name == "target_ids").AsInts().Length)));
            if (aggregate is "SUM" or "AVERAGE" && post == "NONE") attrs.Add(Attr.Floats("base_values", Enumerable.Range(0, targets).Select(k => k * 0.25f + 1)));
            var model = ModelOf("TreeEnsembleRegressor", attrs, [("Y", new TensorType(DataType.Float, null))]);
            Compare(model, 200, classifier: false, seed: targets, $"{aggregate}/{post}/{targets} with {modes.Length} modes");
        }
    }

    public static TheoryData<int, string, int, bool> ClassifierCases => new()
    {
        { 3, "NONE", 3, false }, { 3, "SOFTMAX", 0, false }, { 4, "LOGISTIC", 4, true },
        // Binary: weights for one class id only (ONNX Runtime's binary case), all positive or mixed, 0-2 base values.
        { 2, "NONE", 0, true }, { 2, "NONE", 0, false }, { 2, "LOGISTIC", 0, false }, { 2, "LOGISTIC", 1, false }, { 2, "NONE", 2, true },
    };

    [Theory]
    [MemberData(nameof(ClassifierCases))]
    public void Classifier_matches_onnx_runtime(int classes, string post, int baseValues, bool positive)
    {
        var rng = new Random(classes * 100 + baseValues * 10 + post.Length);
        var attrs = RandomTrees(rng, 10, Modes[..4], "class_", classes == 2 ? 1 : classes, oneTargetPerLeaf: classes == 2, positive);
        if (classes == 2) attrs.Add(Attr.Floats("class_weights_unused", [])); // keep the attribute list shape-independent
        attrs.RemoveAll(a => a.Name == "class_weights_unused");
        attrs.AddRange([Attr.Ints("classlabels_int64s", Enumerable.Range(0, classes).Select(k => (long)(k * 10 + 5))), Attr.String("post_transform", post)]);
        if (baseValues > 0) attrs.Add(Attr.Floats("base_values", Enumerable.Range(0, baseValues).Select(k => 0.1f * (k + 1))));
        var model = ModelOf("TreeEnsembleClassifier", attrs, [("label", new TensorType(DataType.Int64, null)), ("scores", new TensorType(DataType.Float, null))]);
        Compare(model, 200, classifier: true, seed: classes + baseValues, $"{classes} classes/{post}/{baseValues} bases/positive {positive}");
    }

    [Fact]
    public void Classifier_string_labels()
    {
        var rng = new Random(5);
        var attrs = RandomTrees(rng, 6, Modes, "class_", 3, oneTargetPerLeaf: false, positive: false);
        attrs.Add(Attr.Strings("classlabels_strings", ["cat", "dog", "eel"]));
        var model = ModelOf("TreeEnsembleClassifier", attrs, [("label", new TensorType(DataType.String, null)), ("scores", new TensorType(DataType.Float, null))]);
        var x = Inputs(new Random(6), 50);
        using var session = LoomSession.Load(model);
        using var result = session.Run(("X", Tensor.FromArray(x, 50, Features)));
        var labels = ((Tensor)result[0].Value).ToArray<string>();
        var z = ((Tensor)result[1].Value).ToArray<float>();
        for (int r = 0; r < 50; r++)
        {
            int best = 0;
            for (int k = 1; k < 3; k++) if (z[r * 3 + k] > z[r * 3 + best]) best = k;
            Assert.Equal(new[] { "cat", "dog", "eel" }[best], labels[r]);
        }
    }

    [Fact]
    public void Bad_attributes_name_the_node()
    {
        var attrs = RandomTrees(new Random(1), 2, Modes, "target_", 1, true, false);
        attrs.RemoveAll(a => a.Name == "nodes_values");
        attrs.Add(Attr.Floats("nodes_values", [1]));
        var model = ModelOf("TreeEnsembleRegressor", attrs, [("Y", new TensorType(DataType.Float, null))]);
        var e = Assert.ThrowsAny<LoomException>(() => LoomSession.Load(model));
        Assert.Contains("'trees'", e.Message);
        Assert.Contains("nodes_values", e.Message);
    }
}
