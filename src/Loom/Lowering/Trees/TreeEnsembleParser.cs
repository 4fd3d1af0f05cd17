using Loom.IR;
using Loom.Kernels.Common;

namespace Loom.Lowering.Trees;

/// <summary>
/// Reads the attributes of an ONNX-ML tree node — TreeEnsembleRegressor or TreeEnsembleClassifier
/// (opsets 1-4, nodes keyed by tree id and node id) or TreeEnsemble (opset 5, flat arrays) — into a
/// <see cref="TreeEnsembleSpec"/>. <paramref name="fail"/> makes the error naming the node.
/// </summary>
public static class TreeEnsembleParser
{
    public static TreeEnsembleSpec Parse(Node node, Func<string, LoomException> fail) => node.OpType switch
    {
        "TreeEnsembleRegressor" => ParseKeyed(node, "target_", fail, classifier: false),
        "TreeEnsembleClassifier" => ParseKeyed(node, "class_", fail, classifier: true),
        "TreeEnsemble" => ParseFlat(node, fail),
        _ => throw fail($"{node.OpType} is not a tree ensemble"),
    };

    private static double[] Doubles(Node n, string name) =>
        n.GetAttribute(name + "_as_tensor")?.AsTensor() is { } t ? ImageNumerics.ToDoubles(t)
        : n.GetFloats(name) is { } f ? f.Select(v => (double)v).ToArray()
        : n.GetAttribute(name)?.AsTensor() is { } t5 ? ImageNumerics.ToDoubles(t5) : [];

    private static long[] Ints(Node n, string name) => n.GetInts(name)?.ToArray() ?? [];

    private static PostTransform ParsePost(string s, Func<string, LoomException> fail) => s switch
    {
        "NONE" => PostTransform.None,
        "SOFTMAX" => PostTransform.Softmax,
        "LOGISTIC" => PostTransform.Logistic,
        "SOFTMAX_ZERO" => PostTransform.SoftmaxZero,
        "PROBIT" => PostTransform.Probit,
        _ => throw fail($"post_transform '{s}' is not one of NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT"),
    };

    private static Aggregate ParseAggregate(string s, Func<string, LoomException> fail) => s switch
    {
        "AVERAGE" => Aggregate.Average,
        "SUM" => Aggregate.Sum,
        "MIN" => Aggregate.Min,
        "MAX" => Aggregate.Max,
        _ => throw fail($"aggregate_function '{s}' is not one of AVERAGE, SUM, MIN, MAX"),
    };

    /// <summary>TreeEnsembleRegressor/Classifier: nodes named by (tree id, node id); LEAF nodes carry the weights.</summary>
    private static TreeEnsembleSpec ParseKeyed(Node n, string weightPrefix, Func<string, LoomException> fail, bool classifier)
    {
        var treeIds = Ints(n, "nodes_treeids");
        var nodeIds = Ints(n, "nodes_nodeids");
        var features = Ints(n, "nodes_featureids");
        var modeNames = n.GetAttribute("nodes_modes")?.AsStrings().ToArray() ?? [];
        var values = Doubles(n, "nodes_values");
        var trueIds = Ints(n, "nodes_truenodeids");
        var falseIds = Ints(n, "nodes_falsenodeids");
        var missing = Ints(n, "nodes_missing_value_tracks_true");
        int count = treeIds.Length;
        if (count == 0) throw fail("nodes_treeids is empty");
        foreach (var (len, name) in new[] { (nodeIds.Length, "nodes_nodeids"), (features.Length, "nodes_featureids"), (modeNames.Length, "nodes_modes"),
                     (values.Length, "nodes_values"), (trueIds.Length, "nodes_truenodeids"), (falseIds.Length, "nodes_falsenodeids") })
            if (len != count) throw fail($"{name} has {len} entries but nodes_treeids has {count}");
        if (missing.Length != 0 && missing.Length != count) throw fail($"nodes_missing_value_tracks_true has {missing.Length} entries but nodes_treeids has {count}");

        var weightTrees = Ints(n, weightPrefix + "treeids");
        var weightNodes = Ints(n, weightPrefix + "nodeids");
        var weightIds = Ints(n, weightPrefix + "ids");
        var weights = Doubles(n, weightPrefix + "weights");
        if (weightNodes.Length != weightTrees.Length || weightIds.Length != weightTrees.Length || weights.Length != weightTrees.Length)
            throw fail($"the {weightPrefix}* attributes must all have the same length");

        ClassifierInfo? info = null;
        int targets;
        if (classifier)
        {
            var ints = n.GetInts("classlabels_int64s")?.ToArray();
            var strings = n.GetAttribute("classlabels_strings")?.AsStrings().ToArray();
            if ((ints is null) == (strings is null)) throw fail("exactly one of classlabels_int64s and classlabels_strings must be given");
            targets = ints?.Length ?? strings!.Length;
            if (targets == 0) throw fail("the classifier has no class labels");
            // ONNX Runtime's binary case: two labels but weights for one class id only.
            bool binary = targets == 2 && weightIds.Distinct().Count() == 1;
            info = new ClassifierInfo(ints, strings, binary, weights.All(w => w >= 0));
        }
        else
        {
            long nt = n.GetInt("n_targets", 1);
            if (nt < 1 || nt > int.MaxValue) throw fail($"n_targets {nt} must be positive");
            targets = (int)nt;
        }

        // Index nodes by (tree, node id); branch nodes get a dense index, leaves a leaf index.
        var key = new Dictionary<(long, long), int>(count);
        for (int i = 0; i < count; i++)
            if (!key.TryAdd((treeIds[i], nodeIds[i]), i)) throw fail($"tree {treeIds[i]} has node id {nodeIds[i]} twice");
        var denseIndex = new int[count];
        int branches = 0, leaves = 0;
        for (int i = 0; i < count; i++) denseIndex[i] = modeNames[i] == "LEAF" ? ~leaves++ : branches++;

        // Leaf weights, grouped per leaf in the order the attributes list them.
        var perLeaf = new List<(int Target, double Weight)>[leaves];
        for (int l = 0; l < leaves; l++) perLeaf[l] = [];
        for (int w = 0; w < weightTrees.Length; w++)
        {
            if (!key.TryGetValue((weightTrees[w], weightNodes[w]), out int i)) throw fail($"{weightPrefix}nodeids names node {weightNodes[w]} of tree {weightTrees[w]}, which does not exist");
            if (denseIndex[i] >= 0) throw fail($"{weightPrefix}nodeids names node {weightNodes[w]} of tree {weightTrees[w]}, which is not a LEAF");
            if (weightIds[w] < 0 || weightIds[w] >= targets) throw fail($"{weightPrefix}ids {weightIds[w]} is out of range [0, {targets})");
            perLeaf[~denseIndex[i]].Add(((int)weightIds[w], weights[w]));
        }

        var modes = new NodeMode[branches];
        var feats = new int[branches];
        var thresholds = new double[branches];
        var missingTrue = new bool[branches];
        var trueChild = new int[branches];
        var falseChild = new int[branches];
        int Child(long tree, long id, int from, string what)
        {
            if (!key.TryGetValue((tree, id), out int i)) throw fail($"node {nodeIds[from]} of tree {tree}: {what} {id} does not exist");
            return denseIndex[i];
        }
        for (int i = 0; i < count; i++)
        {
            int b = denseIndex[i];
            if (b < 0) continue;
            modes[b] = modeNames[i] switch
            {
                "BRANCH_LEQ" => NodeMode.Leq, "BRANCH_LT" => NodeMode.Lt, "BRANCH_GTE" => NodeMode.Gte,
                "BRANCH_GT" => NodeMode.Gt, "BRANCH_EQ" => NodeMode.Eq, "BRANCH_NEQ" => NodeMode.Neq,
                var m => throw fail($"nodes_modes '{m}' is not a known mode"),
            };
            if (features[i] < 0 || features[i] > int.MaxValue) throw fail($"nodes_featureids {features[i]} must be non-negative");
            feats[b] = (int)features[i];
            thresholds[b] = values[i];
            missingTrue[b] = missing.Length > 0 && missing[i] != 0;
            trueChild[b] = Child(treeIds[i], trueIds[i], i, "nodes_truenodeids");
            falseChild[b] = Child(treeIds[i], falseIds[i], i, "nodes_falsenodeids");
        }
        // A tree's root is its first node in attribute order, as ONNX Runtime takes it.
        var roots = new List<int>();
        var seenTrees = new HashSet<long>();
        for (int i = 0; i < count; i++) if (seenTrees.Add(treeIds[i])) roots.Add(denseIndex[i]);

        var (leafStart, targetIds, weightValues) = Flatten(perLeaf);
        var baseValues = Doubles(n, "base_values");
        return new TreeEnsembleSpec
        {
            Modes = modes, Features = feats, Thresholds = thresholds, Members = new double[]?[branches], MissingTrue = missingTrue,
            True = trueChild, False = falseChild, Roots = roots.ToArray(), LeafStart = leafStart, WeightTargets = targetIds,
            WeightValues = weightValues, Targets = targets,
            Aggregate = classifier ? Aggregate.Sum : ParseAggregate(n.GetString("aggregate_function", "SUM"), fail),
            Post = ParsePost(n.GetString("post_transform", "NONE"), fail), BaseValues = baseValues, Classifier = info,
        };
    }

    private static (int[] Start, int[] Targets, double[] Values) Flatten(List<(int Target, double Weight)>[] perLeaf)
    {
        var start = new int[perLeaf.Length + 1];
        for (int l = 0; l < perLeaf.Length; l++) start[l + 1] = start[l] + perLeaf[l].Count;
        var targets = new int[start[^1]];
        var values = new double[start[^1]];
        for (int l = 0; l < perLeaf.Length; l++)
            for (int k = 0; k < perLeaf[l].Count; k++) (targets[start[l] + k], values[start[l] + k]) = perLeaf[l][k];
        return (start, targets, values);
    }

    /// <summary>TreeEnsemble (opset 5): flat node arrays, leaves separate, BRANCH_MEMBER sets NaN-terminated.</summary>
    private static TreeEnsembleSpec ParseFlat(Node n, Func<string, LoomException> fail)
    {
        long[] Required(string name) => n.GetInts(name)?.ToArray() ?? throw fail($"attribute {name} is required");
        double[] Tensor(string name) => n.GetAttribute(name)?.AsTensor() is { } t ? ImageNumerics.ToDoubles(t) : throw fail($"attribute {name} is required");
        var featureIds = Required("nodes_featureids");
        var modes = Tensor("nodes_modes");
        var splits = Tensor("nodes_splits");
        var trueIds = Required("nodes_truenodeids");
        var falseIds = Required("nodes_falsenodeids");
        var trueLeafs = Required("nodes_trueleafs");
        var falseLeafs = Required("nodes_falseleafs");
        var missing = n.GetInts("nodes_missing_value_tracks_true")?.ToArray() ?? new long[featureIds.Length];
        int count = featureIds.Length;
        if (new[] { modes.Length, splits.Length, trueIds.Length, falseIds.Length, trueLeafs.Length, falseLeafs.Length, missing.Length }.Any(l => l != count))
            throw fail("the nodes_* attributes must all have the same length");
        var weights = Tensor("leaf_weights");
        var targets = Required("leaf_targetids");
        if (weights.Length != targets.Length) throw fail("leaf_weights and leaf_targetids must have the same length");
        long nTargets = n.GetInt("n_targets", 0);
        if (nTargets < 1 || nTargets > int.MaxValue) throw fail($"n_targets {nTargets} must be positive");
        if (targets.Any(t => t < 0 || t >= nTargets)) throw fail($"leaf_targetids must be in [0, {nTargets})");
        if (modes.Any(m => m < 0 || m > 6)) throw fail("nodes_modes must be in [0, 6]");
        if (featureIds.Any(f => f < 0 || f > int.MaxValue)) throw fail("nodes_featureids must be non-negative");

        // Each BRANCH_MEMBER node takes the next NaN-terminated run of membership_values, in node order.
        var memberValues = n.GetAttribute("membership_values")?.AsTensor() is { } mv ? ImageNumerics.ToDoubles(mv) : [];
        var members = new double[]?[count];
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            if ((NodeMode)(byte)modes[i] != NodeMode.Member) continue;
            int begin = at;
            while (at < memberValues.Length && !double.IsNaN(memberValues[at])) at++;
            if (at >= memberValues.Length) throw fail($"membership_values has no NaN-terminated set for member node {i}");
            members[i] = memberValues[begin..at];
            at++;
        }
        int Child(long id, long isLeaf, string what)
        {
            long limit = isLeaf != 0 ? weights.Length : count;
            if (id < 0 || id >= limit) throw fail($"{what} {id} is out of range [0, {limit})");
            return isLeaf != 0 ? ~(int)id : (int)id;
        }
        var trueChild = new int[count];
        var falseChild = new int[count];
        for (int i = 0; i < count; i++)
        {
            trueChild[i] = Child(trueIds[i], trueLeafs[i], "nodes_truenodeids");
            falseChild[i] = Child(falseIds[i], falseLeafs[i], "nodes_falsenodeids");
        }
        var roots = Required("tree_roots").Select(root =>
        {
            if (root < 0 || root >= count) throw fail($"tree root {root} is out of range [0, {count})");
            int r = (int)root;
            // A tree that is a single leaf: both branches name the same leaf.
            return trueLeafs[r] != 0 && falseLeafs[r] != 0 && trueIds[r] == falseIds[r] ? trueChild[r] : r;
        }).ToArray();
        long aggregate = n.GetInt("aggregate_function", 1), post = n.GetInt("post_transform", 0);
        if (aggregate is < 0 or > 3) throw fail($"aggregate_function {aggregate} must be in [0, 3]");
        if (post is < 0 or > 4) throw fail($"post_transform {post} must be in [0, 4]");
        return new TreeEnsembleSpec
        {
            Modes = modes.Select(m => (NodeMode)(byte)m).ToArray(), Features = featureIds.Select(f => (int)f).ToArray(),
            Thresholds = splits, Members = members, MissingTrue = missing.Select(m => m != 0).ToArray(),
            True = trueChild, False = falseChild, Roots = roots,
            LeafStart = Enumerable.Range(0, weights.Length + 1).ToArray(), WeightTargets = targets.Select(t => (int)t).ToArray(),
            WeightValues = weights, Targets = (int)nTargets, Aggregate = (Aggregate)aggregate, Post = (PostTransform)post, BaseValues = [],
        };
    }
}
