using Loom.IR;
using Loom.Lowering.Trees;
using Attr = Loom.IR.Attribute;

namespace Loom.Import.Trees;

/// <summary>
/// Collects the trees an importer (LightGBM, XGBoost) reads and writes them as a Loom IR model with
/// one ONNX-ML tree node: TreeEnsembleRegressor (ai.onnx.ml 3) when every split is numerical — the
/// form every ONNX runtime scores — or TreeEnsemble (ai.onnx.ml 5) when a split tests set membership,
/// which the older operator can only express by copying subtrees once per category. Thresholds are
/// written as float32; callers convert them exactly first (<see cref="FlatForest.FloorToFloat"/>).
/// </summary>
public sealed class EnsembleBuilder(string source)
{
    private readonly record struct Branch(NodeMode Mode, int Feature, double Threshold, bool MissingTrue, int True, int False, double[]? Members);

    private readonly List<Branch> _branches = [];
    private readonly List<(int Target, double Value)> _leaves = [];
    private readonly List<int> _roots = [];
    /// <summary>Copies made so far; a model whose zero-as-missing splits need too many is refused rather than blown up.</summary>
    private long _copied;
    private const long MaxCopiedNodes = 4_000_000;

    public int TreeCount => _roots.Count;

    /// <summary>A leaf; returns its child reference (<c>~leaf</c>).</summary>
    public int Leaf(int target, double value)
    {
        _leaves.Add((target, value));
        return ~(_leaves.Count - 1);
    }

    /// <summary>A branch node; returns its child reference (its index).</summary>
    public int Node(NodeMode mode, int feature, double threshold, bool missingTrue, int trueChild, int falseChild, double[]? members = null)
    {
        _branches.Add(new Branch(mode, feature, threshold, missingTrue, trueChild, falseChild, members));
        return _branches.Count - 1;
    }

    public void Tree(int root) => _roots.Add(root);

    /// <summary>A deep copy of a subtree (a tree node may have only one parent in ONNX-ML).</summary>
    public int Copy(int child)
    {
        if (++_copied > MaxCopiedNodes) throw new UnsupportedException($"{source}: expressing the model's splits in ONNX-ML needs more than {MaxCopiedNodes} copied nodes");
        if (child < 0) return Leaf(_leaves[~child].Target, _leaves[~child].Value);
        var b = _branches[child];
        return Node(b.Mode, b.Feature, b.Threshold, b.MissingTrue, Copy(b.True), Copy(b.False), b.Members);
    }

    /// <summary>Scales every leaf (LightGBM's sigmoid parameter, random-forest averaging).</summary>
    public void ScaleLeaves(double factor)
    {
        for (int i = 0; i < _leaves.Count; i++) _leaves[i] = (_leaves[i].Target, _leaves[i].Value * factor);
    }

    /// <summary>
    /// The model: input <c>features</c> float[N, F], output <c>predictions</c> float[N, targets] after
    /// <paramref name="post"/> and then the optional elementwise <paramref name="finalOp"/> (Sigmoid, Exp).
    /// </summary>
    public Model Build(int features, int targets, PostTransform post, double[] baseValues, string? finalOp, IReadOnlyDictionary<string, string> metadata)
    {
        bool member = _branches.Any(b => b.Mode == NodeMode.Member);
        string scores = finalOp is null ? "predictions" : "raw_predictions";
        var nodes = new List<Node> { member ? Flat(targets, post, baseValues, scores) : Keyed(targets, post, baseValues, scores) };
        if (finalOp is not null) nodes.Add(new Node(finalOp, [scores], ["predictions"], name: finalOp.ToLowerInvariant()));
        var n = Dim.Symbol("N");
        var graph = new Graph(source,
            [new ValueInfo("features", new TensorType(DataType.Float, new Shape([n, Dim.Of(features)])))],
            [new ValueInfo("predictions", new TensorType(DataType.Float, new Shape([n, Dim.Of(targets)])))],
            nodes);
        var opsets = new Dictionary<string, int> { [""] = member ? 21 : 13, ["ai.onnx.ml"] = member ? 5 : 3 };
        return new Model(graph, opsets, irVersion: member ? 10 : 8, producerName: "loom", metadata: metadata);
    }

    private static string PostName(PostTransform p) => p switch
    {
        PostTransform.Softmax => "SOFTMAX", PostTransform.Logistic => "LOGISTIC", PostTransform.SoftmaxZero => "SOFTMAX_ZERO",
        PostTransform.Probit => "PROBIT", _ => "NONE",
    };

    /// <summary>TreeEnsembleRegressor: nodes numbered per tree depth-first from 0, leaves as LEAF nodes.</summary>
    private Node Keyed(int targets, PostTransform post, double[] baseValues, string output)
    {
        var treeIds = new List<long>(); var nodeIds = new List<long>(); var featureIds = new List<long>();
        var modes = new List<string>(); var values = new List<float>(); var missing = new List<long>();
        var trueIds = new List<long>(); var falseIds = new List<long>();
        var wTree = new List<long>(); var wNode = new List<long>(); var wTarget = new List<long>(); var wValue = new List<float>();
        for (int t = 0; t < _roots.Count; t++)
        {
            int next = 0;
            var stack = new Stack<(int Child, int Id)>();
            stack.Push((_roots[t], next++));
            while (stack.Count > 0)
            {
                var (child, id) = stack.Pop();
                treeIds.Add(t);
                nodeIds.Add(id);
                if (child < 0)
                {
                    var (target, value) = _leaves[~child];
                    featureIds.Add(0); modes.Add("LEAF"); values.Add(0); missing.Add(0); trueIds.Add(0); falseIds.Add(0);
                    wTree.Add(t); wNode.Add(id); wTarget.Add(target); wValue.Add((float)value);
                    continue;
                }
                var b = _branches[child];
                int trueId = next++, falseId = next++;
                featureIds.Add(b.Feature);
                modes.Add(b.Mode switch
                {
                    NodeMode.Leq => "BRANCH_LEQ", NodeMode.Lt => "BRANCH_LT", NodeMode.Gte => "BRANCH_GTE",
                    NodeMode.Gt => "BRANCH_GT", NodeMode.Eq => "BRANCH_EQ", _ => "BRANCH_NEQ",
                });
                values.Add((float)b.Threshold);
                missing.Add(b.MissingTrue ? 1 : 0);
                trueIds.Add(trueId);
                falseIds.Add(falseId);
                stack.Push((b.False, falseId));
                stack.Push((b.True, trueId));
            }
        }
        var attrs = new List<Attr>
        {
            Attr.Int("n_targets", targets), Attr.Ints("nodes_treeids", treeIds), Attr.Ints("nodes_nodeids", nodeIds),
            Attr.Ints("nodes_featureids", featureIds), Attr.Strings("nodes_modes", modes), Attr.Floats("nodes_values", values),
            Attr.Ints("nodes_missing_value_tracks_true", missing), Attr.Ints("nodes_truenodeids", trueIds),
            Attr.Ints("nodes_falsenodeids", falseIds), Attr.Ints("target_treeids", wTree), Attr.Ints("target_nodeids", wNode),
            Attr.Ints("target_ids", wTarget), Attr.Floats("target_weights", wValue), Attr.String("post_transform", PostName(post)),
            Attr.String("aggregate_function", "SUM"),
        };
        if (baseValues.Length > 0) attrs.Add(Attr.Floats("base_values", baseValues.Select(v => (float)v)));
        return new Node("TreeEnsembleRegressor", ["features"], [output], attrs, "trees", "ai.onnx.ml");
    }

    /// <summary>TreeEnsemble (opset 5): flat node arrays; base values become a leaf of their own one-leaf tree per target.</summary>
    private Node Flat(int targets, PostTransform post, double[] baseValues, string output)
    {
        var leaves = _leaves.ToList();
        var roots = _roots.ToList();
        var branches = _branches.ToList();
        // opset 5 has no base values: a tree of one leaf per target adds them.
        for (int k = 0; k < baseValues.Length; k++)
        {
            if (baseValues[k] == 0) continue;
            leaves.Add((k, baseValues[k]));
            int leaf = leaves.Count - 1;
            branches.Add(new Branch(NodeMode.Leq, 0, 0, false, ~leaf, ~leaf, null));
            roots.Add(branches.Count - 1);
        }
        // A one-leaf tree is a node whose two branches are the same leaf.
        for (int i = 0; i < roots.Count; i++)
            if (roots[i] < 0)
            {
                branches.Add(new Branch(NodeMode.Leq, 0, 0, false, roots[i], roots[i], null));
                roots[i] = branches.Count - 1;
            }
        var members = new List<float>();
        foreach (var b in branches.Where(b => b.Mode == NodeMode.Member))
        {
            members.AddRange(b.Members!.Select(v => (float)v));
            members.Add(float.NaN);
        }
        static long Id(int child) => child >= 0 ? child : ~child;
        var attrs = new List<Attr>
        {
            Attr.Int("n_targets", targets), Attr.Ints("tree_roots", roots.Select(r => (long)r)),
            Attr.Ints("nodes_featureids", branches.Select(b => (long)b.Feature)),
            Attr.Tensor("nodes_modes", Tensor.FromArray(branches.Select(b => (byte)b.Mode).ToArray(), [branches.Count], DataType.UInt8)),
            Attr.Tensor("nodes_splits", Tensor.FromArray(branches.Select(b => (float)b.Threshold).ToArray(), branches.Count)),
            Attr.Ints("nodes_truenodeids", branches.Select(b => Id(b.True))), Attr.Ints("nodes_trueleafs", branches.Select(b => b.True < 0 ? 1L : 0L)),
            Attr.Ints("nodes_falsenodeids", branches.Select(b => Id(b.False))), Attr.Ints("nodes_falseleafs", branches.Select(b => b.False < 0 ? 1L : 0L)),
            Attr.Ints("nodes_missing_value_tracks_true", branches.Select(b => b.MissingTrue ? 1L : 0L)),
            Attr.Ints("leaf_targetids", leaves.Select(l => (long)l.Target)),
            Attr.Tensor("leaf_weights", Tensor.FromArray(leaves.Select(l => (float)l.Value).ToArray(), leaves.Count)),
            Attr.Int("post_transform", (long)post), Attr.Int("aggregate_function", (long)Aggregate.Sum),
        };
        if (members.Count > 0) attrs.Add(Attr.Tensor("membership_values", Tensor.FromArray(members.ToArray(), members.Count)));
        return new Node("TreeEnsemble", ["features"], [output], attrs, "trees", "ai.onnx.ml");
    }

}
