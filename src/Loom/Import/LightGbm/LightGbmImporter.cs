using System.Globalization;
using Loom.Import.Trees;
using Loom.IR;
using Loom.Lowering.Trees;

namespace Loom.Import.LightGbm;

/// <summary>
/// Reads a LightGBM text model (<c>model.txt</c>, as <c>LGBM_BoosterSaveModel</c> writes it) into a Loom
/// IR model whose output equals LightGBM's <c>predict</c> (transformed by the objective).
/// Numerical splits go left when x ≤ threshold (a double): stored as the largest float ≤ it, the float
/// comparison decides exactly as LightGBM's double one. Missing values follow <c>decision_type</c>:
/// type None sends NaN where 0 would go; NaN sends NaN the default way; Zero sends NaN and |x| ≤ 1e-35
/// the default way (needing extra nodes when the zero range straddles the threshold). As LightGBM's
/// predictor reads every |x| ≤ 1e-35 as 0, a threshold inside that range moves to its edge. Categorical
/// splits become set membership on the category bitset (NaN and negatives go right).
/// </summary>
public static class LightGbmImporter
{
    private const double ZeroThreshold = 1e-35f; // LightGBM's kZeroThreshold, a float constant

    public static Model Load(string path, int numIteration = 0)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException($"{path}: cannot read the LightGBM model: {e.Message}", e); }
        return Parse(text, Path.GetFileName(path), numIteration);
    }

    /// <summary>Parses model text; <paramref name="numIteration"/> &gt; 0 keeps only the first that many boosting rounds, as LightGBM's <c>num_iteration</c>.</summary>
    public static Model Parse(string text, string source = "model.txt", int numIteration = 0)
    {
        var lines = text.Split('\n');
        var header = new Dictionary<string, string>();
        int at = 0;
        for (; at < lines.Length && !lines[at].StartsWith("Tree=", StringComparison.Ordinal); at++) AddKeyValue(header, lines[at]);
        if (!header.ContainsKey("max_feature_idx")) throw new ModelFormatException($"{source}: not a LightGBM text model (no max_feature_idx line)");
        int features = Int(header, "max_feature_idx", source) + 1;
        int perIteration = header.ContainsKey("num_tree_per_iteration") ? Int(header, "num_tree_per_iteration", source) : 1;
        int classes = header.ContainsKey("num_class") ? Int(header, "num_class", source) : 1;
        if (perIteration < 1) throw new ModelFormatException($"{source}: num_tree_per_iteration must be positive");
        var objective = (header.GetValueOrDefault("objective") ?? "regression").Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var builder = new EnsembleBuilder(source);
        int trees = 0;
        while (at < lines.Length && lines[at].StartsWith("Tree=", StringComparison.Ordinal))
        {
            int treeLine = at + 1;
            var tree = new Dictionary<string, string>();
            for (at++; at < lines.Length && !lines[at].StartsWith("Tree=", StringComparison.Ordinal) && !lines[at].StartsWith("end of trees", StringComparison.Ordinal); at++)
                AddKeyValue(tree, lines[at]);
            if (numIteration > 0 && trees >= numIteration * perIteration) continue;
            ReadTree(builder, tree, trees % perIteration, $"{source}: tree {trees} (line {treeLine})");
            trees++;
        }
        if (trees == 0) throw new ModelFormatException($"{source}: the model has no trees");

        int targets = perIteration;
        var post = PostTransform.None;
        string? finalOp = null;
        string name = objective.Length > 0 ? objective[0] : "regression";
        double sigmoid = objective.Skip(1).Select(p => p.Split(':')).Where(p => p[0] == "sigmoid").Select(p => double.Parse(p[1], CultureInfo.InvariantCulture)).FirstOrDefault(1.0);
        switch (name)
        {
            case "regression" or "regression_l2" or "regression_l1" or "huber" or "fair" or "quantile" or "mape" or "lambdarank" or "rank_xendcg" or "custom":
                break;
            case "poisson" or "gamma" or "tweedie":
                finalOp = "Exp";
                break;
            case "binary":
                builder.ScaleLeaves(sigmoid); // LightGBM's probability is 1 / (1 + exp(-sigmoid * score))
                finalOp = "Sigmoid";
                break;
            case "cross_entropy" or "xentropy":
                finalOp = "Sigmoid";
                break;
            case "multiclass" or "softmax":
                post = PostTransform.Softmax;
                break;
            case "multiclassova" or "multiclass_ova" or "ova" or "ovr":
                builder.ScaleLeaves(sigmoid);
                post = PostTransform.Logistic;
                break;
            default:
                throw new UnsupportedException($"{source}: objective '{name}' is not supported (regression, binary, multiclass, multiclassova, cross_entropy, poisson, gamma, tweedie and ranking are)");
        }
        if (targets != classes && classes > 1) throw new ModelFormatException($"{source}: num_class {classes} but {targets} trees per iteration");
        if (header.ContainsKey("average_output")) builder.ScaleLeaves(1.0 / (trees / perIteration)); // random forest: the mean of the rounds
        var metadata = new Dictionary<string, string> { ["source"] = "lightgbm", ["objective"] = string.Join(' ', objective) };
        if (header.TryGetValue("feature_names", out var names)) metadata["feature_names"] = names.Trim();
        return builder.Build(features, targets, post, [], finalOp, metadata);
    }

    private static void AddKeyValue(Dictionary<string, string> into, string line)
    {
        int eq = line.IndexOf('=');
        if (eq > 0) into[line[..eq].Trim()] = line[(eq + 1)..].TrimEnd('\r');
        else if (line.Trim() is { Length: > 0 } flag) into[flag] = "";
    }

    private static int Int(Dictionary<string, string> d, string key, string where) =>
        d.TryGetValue(key, out var v) && int.TryParse(v.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i
        : throw new ModelFormatException($"{where}: '{key}' is missing or not an integer");

    private static T[] Array<T>(Dictionary<string, string> d, string key, int count, string where) where T : ISpanParsable<T>
    {
        if (count == 0) return [];
        if (!d.TryGetValue(key, out var v)) throw new ModelFormatException($"{where}: '{key}' is missing");
        var parts = v.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != count) throw new ModelFormatException($"{where}: '{key}' has {parts.Length} values, expected {count}");
        var r = new T[count];
        for (int i = 0; i < count; i++)
            if (!T.TryParse(parts[i], CultureInfo.InvariantCulture, out r[i]!) && !T.TryParse(CSpelling(parts[i]), CultureInfo.InvariantCulture, out r[i]!))
                throw new ModelFormatException($"{where}: '{key}' value {i} ('{parts[i]}') is not a number");
        return r;
    }

    /// <summary>
    /// LightGBM prints doubles with C++ streams, which spell infinities and NaN "inf", "-inf" and "nan"
    /// (a split on a feature whose training values include NaN can get threshold=inf); .NET reads "Infinity".
    /// </summary>
    private static string CSpelling(string s) => s.ToLowerInvariant() switch
    {
        "inf" or "+inf" or "infinity" => "Infinity",
        "-inf" or "-infinity" => "-Infinity",
        "nan" or "-nan" or "+nan" => "NaN",
        _ => s,
    };

    private static void ReadTree(EnsembleBuilder b, Dictionary<string, string> tree, int target, string where)
    {
        if (tree.TryGetValue("is_linear", out var linear) && linear.Trim() != "0")
            throw new UnsupportedException($"{where}: linear trees (linear_tree=true) are not supported");
        int leaves = Int(tree, "num_leaves", where);
        if (leaves < 1) throw new ModelFormatException($"{where}: num_leaves must be positive");
        var leafValue = Array<double>(tree, "leaf_value", leaves, where);
        if (leaves == 1) { b.Tree(b.Leaf(target, leafValue[0])); return; }
        int n = leaves - 1;
        var feature = Array<int>(tree, "split_feature", n, where);
        var threshold = Array<double>(tree, "threshold", n, where);
        var decision = Array<int>(tree, "decision_type", n, where);
        var left = Array<int>(tree, "left_child", n, where);
        var right = Array<int>(tree, "right_child", n, where);
        int cats = tree.ContainsKey("num_cat") ? Int(tree, "num_cat", where) : 0;
        var catBounds = cats > 0 ? Array<int>(tree, "cat_boundaries", cats + 1, where) : [];
        var catBits = cats > 0 ? Array<uint>(tree, "cat_threshold", catBounds[^1], where) : [];

        var leafRefs = leafValue.Select(v => b.Leaf(target, v)).ToArray();
        var built = new int?[n];
        int Build(int child, int depth)
        {
            if (child < 0)
            {
                if (~child >= leaves) throw new ModelFormatException($"{where}: leaf {~child} is out of range");
                return leafRefs[~child];
            }
            if (child >= n || depth > n) throw new ModelFormatException($"{where}: node {child} is out of range or part of a cycle");
            if (built[child] is not null) throw new ModelFormatException($"{where}: node {child} has two parents");
            int l = Build(left[child], depth + 1), r = Build(right[child], depth + 1);
            int node = (decision[child] & 1) != 0
                ? Categorical(b, feature[child], (int)threshold[child], catBounds, catBits, l, r, where)
                : Numerical(b, feature[child], threshold[child], decision[child], l, r);
            built[child] = node;
            return node;
        }
        b.Tree(Build(0, 0));
    }

    /// <summary>Left iff x ≤ t, with LightGBM's missing rules (see the class summary).</summary>
    private static int Numerical(EnsembleBuilder b, int feature, double t, int decision, int left, int right)
    {
        bool defaultLeft = (decision & 2) != 0;
        // LightGBM's predictor reads |x| <= 1e-35 as 0; a threshold inside that range moves to its edge.
        float thr = t >= -ZeroThreshold && t < ZeroThreshold
            ? (0 <= t ? (float)ZeroThreshold : FlatForest.BelowToFloat(-ZeroThreshold))
            : FlatForest.FloorToFloat(t);
        switch ((decision >> 2) & 3)
        {
            case 0: // None: NaN is read as 0
                return b.Node(NodeMode.Leq, feature, thr, 0 <= t, left, right);
            case 2: // NaN
                return b.Node(NodeMode.Leq, feature, thr, defaultLeft, left, right);
        }
        // Zero: NaN and [-1e-35, 1e-35] go the default way.
        if (defaultLeft && t >= ZeroThreshold) return b.Node(NodeMode.Leq, feature, thr, true, left, right);
        if (!defaultLeft && t < -ZeroThreshold) return b.Node(NodeMode.Leq, feature, thr, false, left, right);
        if (defaultLeft && t >= -ZeroThreshold) return b.Node(NodeMode.Leq, feature, ZeroThreshold, true, left, right);
        // The zero range straddles the default: below it compare, inside it default, above it compare.
        int compareBelow = b.Node(NodeMode.Leq, feature, thr, false, left, right);
        int compareAbove = b.Node(NodeMode.Leq, feature, thr, false, b.Copy(left), b.Copy(right));
        int zeroOrAbove = b.Node(NodeMode.Leq, feature, ZeroThreshold, true, b.Copy(defaultLeft ? left : right), compareAbove);
        return b.Node(NodeMode.Lt, feature, -ZeroThreshold, false, compareBelow, zeroOrAbove);
    }

    /// <summary>Left iff (int)x is in the bitset; NaN and negative values go right.</summary>
    private static int Categorical(EnsembleBuilder b, int feature, int catIndex, int[] bounds, uint[] bits, int left, int right, string where)
    {
        if (catIndex < 0 || catIndex + 1 >= bounds.Length) throw new ModelFormatException($"{where}: categorical split {catIndex} has no cat_boundaries entry");
        var members = new List<double>();
        for (int w = bounds[catIndex]; w < bounds[catIndex + 1]; w++)
            for (int bit = 0; bit < 32; bit++)
                if ((bits[w] >> bit & 1) != 0) members.Add((w - bounds[catIndex]) * 32 + bit);
        return b.Node(NodeMode.Member, feature, 0, false, left, right, members.ToArray());
    }
}
