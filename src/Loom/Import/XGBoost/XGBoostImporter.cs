using System.Globalization;
using System.Text.Json;
using Loom.Import.Trees;
using Loom.IR;
using Loom.Lowering.Trees;

namespace Loom.Import.XGBoost;

/// <summary>
/// Reads an XGBoost JSON model (<c>save_model("model.json")</c>, booster <c>gbtree</c>) into a Loom IR
/// model whose output equals XGBoost's <c>predict</c>. A split sends x left when x &lt; split_condition
/// (both float32, so exact) and a missing value the <c>default_left</c> way; leaves hold their value in
/// split_conditions. <c>base_score</c> is the model's mean in probability space for logistic
/// objectives (so its logit is added to the margin) and a margin otherwise; <c>tree_info</c> gives
/// each tree's class.
/// </summary>
public static class XGBoostImporter
{
    public static Model Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException($"{path}: cannot read the XGBoost model: {e.Message}", e); }
        return Parse(text, Path.GetFileName(path));
    }

    public static Model Parse(string json, string source = "model.json")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new ModelFormatException($"{source}: not valid JSON: {e.Message}", e); }
        using (doc)
        {
            var learner = Get(doc.RootElement, "learner", source);
            var booster = Get(learner, "gradient_booster", source);
            string boosterName = booster.TryGetProperty("name", out var bn) ? bn.GetString() ?? "" : "";
            if (boosterName != "gbtree") throw new UnsupportedException($"{source}: booster '{boosterName}' is not supported (only gbtree)");
            var model = Get(booster, "model", source);
            var param = Get(learner, "learner_model_param", source);
            int features = (int)Number(Get(param, "num_feature", source), source, "num_feature");
            int classes = param.TryGetProperty("num_class", out var nc) ? (int)Number(nc, source, "num_class") : 0;
            double baseScore = param.TryGetProperty("base_score", out var bs) ? Number(bs, source, "base_score") : 0.5;
            string objective = Get(Get(learner, "objective", source), "name", source).GetString() ?? "";

            int targets = Math.Max(1, classes);
            var builder = new EnsembleBuilder(source);
            var trees = Get(model, "trees", source).EnumerateArray().ToArray();
            var treeInfo = model.TryGetProperty("tree_info", out var ti) ? ti.EnumerateArray().Select(e => e.GetInt32()).ToArray() : new int[trees.Length];
            if (treeInfo.Length != trees.Length) throw new ModelFormatException($"{source}: tree_info has {treeInfo.Length} entries for {trees.Length} trees");
            for (int t = 0; t < trees.Length; t++)
            {
                if (treeInfo[t] < 0 || treeInfo[t] >= targets) throw new ModelFormatException($"{source}: tree {t} is for class {treeInfo[t]}, outside [0, {targets})");
                ReadTree(builder, trees[t], treeInfo[t], $"{source}: tree {t}");
            }

            var post = PostTransform.None;
            string? finalOp = null;
            double margin;
            switch (objective)
            {
                case "reg:squarederror" or "reg:linear" or "reg:absoluteerror" or "reg:pseudohubererror" or "reg:quantileerror":
                    margin = baseScore;
                    break;
                case "binary:logistic" or "reg:logistic":
                    margin = -Math.Log(1 / baseScore - 1);
                    finalOp = "Sigmoid";
                    break;
                case "binary:logitraw":
                    margin = -Math.Log(1 / baseScore - 1);
                    break;
                case "multi:softprob":
                    margin = baseScore;
                    post = PostTransform.Softmax;
                    break;
                default:
                    throw new UnsupportedException($"{source}: objective '{objective}' is not supported (reg:squarederror, binary:logistic, binary:logitraw, multi:softprob are)");
            }
            var metadata = new Dictionary<string, string> { ["source"] = "xgboost", ["objective"] = objective };
            return builder.Build(features, targets, post, Enumerable.Repeat(margin, targets).ToArray(), finalOp, metadata);
        }
    }

    private static JsonElement Get(JsonElement e, string name, string source) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : throw new ModelFormatException($"{source}: '{name}' is missing");

    /// <summary>XGBoost writes numbers in parameters as strings ("5E-1"), sometimes as a one-element list ("[5E-1]").</summary>
    private static double Number(JsonElement e, string source, string what)
    {
        string s = e.ValueKind == JsonValueKind.String ? e.GetString()!.Trim('[', ']', ' ') : e.GetRawText();
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new ModelFormatException($"{source}: {what} '{s}' is not a number");
    }

    private static T[] Array<T>(JsonElement tree, string name, string where, Func<JsonElement, T> read)
    {
        if (!tree.TryGetProperty(name, out var a) || a.ValueKind != JsonValueKind.Array) throw new ModelFormatException($"{where}: '{name}' is missing");
        return a.EnumerateArray().Select(read).ToArray();
    }

    private static void ReadTree(EnsembleBuilder b, JsonElement tree, int target, string where)
    {
        var left = Array(tree, "left_children", where, e => e.GetInt32());
        var right = Array(tree, "right_children", where, e => e.GetInt32());
        var index = Array(tree, "split_indices", where, e => e.GetInt32());
        var condition = Array(tree, "split_conditions", where, e => e.GetDouble());
        var defaultLeft = Array(tree, "default_left", where, e => e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : e.GetInt32() != 0);
        int n = left.Length;
        if (new[] { right.Length, index.Length, condition.Length, defaultLeft.Length }.Any(l => l != n) || n == 0)
            throw new ModelFormatException($"{where}: the node arrays must be non-empty and of one length");
        if (tree.TryGetProperty("split_type", out var types) && types.EnumerateArray().Any(t => t.GetInt32() != 0))
            throw new UnsupportedException($"{where}: categorical splits are not supported for XGBoost models");
        int Build(int node, int depth)
        {
            if (node < 0 || node >= n || depth > n) throw new ModelFormatException($"{where}: node {node} is out of range or part of a cycle");
            if (left[node] == -1) return b.Leaf(target, (float)condition[node]);
            // x < c (float): the parser turns BRANCH_LT into x <= the float below c.
            return b.Node(NodeMode.Lt, index[node], (float)condition[node], defaultLeft[node], Build(left[node], depth + 1), Build(right[node], depth + 1));
        }
        b.Tree(Build(0, 0));
    }
}
