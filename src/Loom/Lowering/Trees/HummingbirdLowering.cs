namespace Loom.Lowering.Trees;

/// <summary>
/// Hummingbird's three tree strategies written as default-domain ONNX tensor programs, from the arrays
/// the fused strategies compile (<see cref="GemmProgram"/>, <see cref="TreeTraversalProgram"/>,
/// <see cref="PerfectTreeTraversalProgram"/>). Each returns the per-row aggregate over trees, a float
/// [N, width] value (width as in <see cref="LeafTable"/>), before base values and post transform.
/// Comparisons are the <see cref="FlatForest"/> ones — "left iff x ≤ t, or x is NaN and the node
/// sends NaN left" with float thresholds — so the programs decide every split as the fused kernel does.
/// </summary>
internal static class HummingbirdLowering
{
    /// <summary>How NaN goes at the nodes of a forest: everywhere left, everywhere right, or per node (a gathered mask).</summary>
    private enum NanRule { Left, Right, Mixed }

    private static NanRule RuleOf(IEnumerable<bool> nanLeft)
    {
        bool anyLeft = false, anyRight = false;
        foreach (bool l in nanLeft) { anyLeft |= l; anyRight |= !l; }
        return anyLeft && anyRight ? NanRule.Mixed : anyLeft ? NanRule.Left : NanRule.Right;
    }

    /// <summary>
    /// Bool "goes left": x ≤ t is false for NaN, so NaN-left needs !(x &gt; t), and a mixed forest
    /// (x ≤ t) or (x is NaN and the node's flag) — Or/And, as ONNX Runtime has no Where over booleans.
    /// </summary>
    private static string GoesLeft(TensorProgramBuilder b, string x, string t, NanRule rule, Func<string> nanLeft, string hint) => rule switch
    {
        NanRule.Right => b.Op("LessOrEqual", hint, x, t),
        NanRule.Left => b.Op("Not", hint, b.Op("Greater", hint + "_gt", x, t)),
        _ => b.Op("Or", hint, b.Op("LessOrEqual", hint + "_le", x, t), b.Op("And", hint + "_nan", b.Op("IsNaN", hint + "_isnan", x), nanLeft())),
    };

    /// <summary>Bool "goes right", the negation of <see cref="GoesLeft"/>.</summary>
    private static string GoesRight(TensorProgramBuilder b, string x, string t, NanRule rule, Func<string> nanRight, string hint) => rule switch
    {
        NanRule.Left => b.Op("Greater", hint, x, t),
        NanRule.Right => b.Op("Not", hint, b.Op("LessOrEqual", hint + "_le", x, t)),
        _ => b.Op("Or", hint, b.Op("Greater", hint + "_gt", x, t), b.Op("And", hint + "_nan", b.Op("IsNaN", hint + "_isnan", x), nanRight())),
    };

    private static string ReduceOp(Aggregate a) => a switch { Aggregate.Min => "ReduceMin", Aggregate.Max => "ReduceMax", _ => "ReduceSum" };

    /// <summary>
    /// GEMM, as Hummingbird computes it: with X transposed, every tree's node conditions at once
    /// (T×I×N), then the path matrices (T×L×I) times the conditions, equal to each leaf's count of left
    /// turns (T×L×1), gives a one-hot T×L×N leaf matrix, and the leaf-value matrices (T×W×L) times it the
    /// per-tree outputs, summed over trees. Trees are padded to the most nodes and leaves of any tree
    /// (zero path rows; padding leaves expect -1 left turns, which no sum of 0/1 conditions equals).
    /// A node's feature is read with Gather rather than as a product with a one-hot F×I matrix: the
    /// product would turn a NaN or infinite feature into NaN at every node (0·NaN = NaN), and missing
    /// values decide real splits. MIN/MAX cannot be a sum of products, so there the one-hot leaf
    /// matrix times the leaf numbers gives each tree's leaf, whose row of the leaf table is gathered.
    /// </summary>
    public static string Gemm(TensorProgramBuilder b, GemmProgram p, LeafTable table, Aggregate aggregate, string x)
    {
        var f = p.Forest;
        int trees = f.TreeCount, width = table.Width;
        int inner = Math.Max(1, p.TreeNodes.Max(n => n.Length)), leaves = p.TreeLeaves.Max(l => l.Length);
        var rule = RuleOf(p.TreeNodes.SelectMany(n => n).Select(n => f.NanLeft[n]));
        var feature = new long[trees * inner];
        var threshold = new float[trees * inner];
        var nanLeft = new bool[trees * inner];
        var path = new float[trees * leaves * inner];
        // When every node sends NaN left, the condition is "goes right" (x > t, one op instead of two) and a
        // leaf is matched by minus its count of right turns: C·(1 - left) = (lefts - rights) - C·left.
        bool right = rule == NanRule.Left;
        var lefts = new float[trees * leaves];
        Array.Fill(lefts, right ? 1f : -1f);
        for (int t = 0; t < trees; t++)
        {
            int[] nodes = p.TreeNodes[t];
            int count = p.TreeLeaves[t].Length;
            for (int i = 0; i < nodes.Length; i++)
            {
                (feature[t * inner + i], threshold[t * inner + i], nanLeft[t * inner + i]) = (f.Feature[nodes[i]], f.Threshold[nodes[i]], f.NanLeft[nodes[i]]);
                for (int l = 0; l < count; l++) path[(t * leaves + l) * inner + i] = p.PathMatrices[t][i * count + l];
            }
            for (int l = 0; l < count; l++)
            {
                int rights = 0;
                for (int i = 0; i < nodes.Length; i++) if (p.PathMatrices[t][i * count + l] < 0) rights++;
                lefts[t * leaves + l] = right ? -rights : p.LeftCounts[t][l];
            }
        }
        var xt = b.Op("Transpose", "xt", [x], [IR.Attribute.Ints("perm", [1, 0])]);
        var values = b.Op("Gather", "node_x", [xt, b.Longs("node_feature", feature, trees, inner)], [IR.Attribute.Int("axis", 0)]);
        var thresholds = b.Floats("node_threshold", threshold, trees, inner, 1);
        var decided = right ? b.Op("Greater", "node_right", values, thresholds)
            : GoesLeft(b, values, thresholds, rule, () => b.Bools("node_nan_left", nanLeft, trees, inner, 1), "node_left");
        var conditions = b.Cast(decided, DataType.Float, "conditions");
        var sums = b.Op("MatMul", "path_sums", b.Floats("path_matrix", path, trees, leaves, inner), conditions);
        var hit = b.Cast(b.Op("Equal", "leaf_hit", sums, b.Floats(right ? "path_rights" : "path_lefts", lefts, trees, leaves, 1)), DataType.Float, "leaf_onehot");
        if (aggregate is Aggregate.Sum or Aggregate.Average)
        {
            var leafValues = new float[trees * width * leaves];
            for (int t = 0; t < trees; t++)
                for (int l = 0; l < p.TreeLeaves[t].Length; l++)
                    for (int k = 0; k < width; k++) leafValues[(t * width + k) * leaves + l] = table.Values[p.TreeLeaves[t][l] * width + k];
            var perTree = b.Op("MatMul", "tree_values", b.Floats("leaf_values", leafValues, trees, width, leaves), hit);
            return b.Op("Transpose", "sums", [b.Reduce("ReduceSum", perTree, 0, false, "sums_t")], [IR.Attribute.Ints("perm", [1, 0])]);
        }
        var leafIds = new float[trees * leaves];
        for (int t = 0; t < trees; t++)
            for (int l = 0; l < p.TreeLeaves[t].Length; l++) leafIds[t * leaves + l] = p.TreeLeaves[t][l];
        var ids = b.Op("MatMul", "leaf_id", b.Floats("leaf_ids", leafIds, trees, 1, leaves), hit);
        var index = b.Op("Squeeze", "leaf_index", b.Cast(ids, DataType.Int64, "leaf_index_3d"), b.Longs("squeeze_axes", [1], 1));
        var rows = b.Op("Gather", "leaf_rows", b.Floats("leaf_table", table.Values, table.Values.Length / width, width), index);
        return b.Reduce(ReduceOp(aggregate), rows, 0, false, "aggregate");
    }

    /// <summary>
    /// TreeTraversal, as Hummingbird computes it: an [N, T] node index, first the roots; each level
    /// gathers the nodes' features, thresholds and both children, reads the features of X with
    /// GatherElements and moves with Where. Leaves point to themselves, so walks that end early stay put
    /// for the remaining levels (the deepest tree's depth). The final index gathers the leaves' rows.
    /// </summary>
    public static string TreeTraversal(TensorProgramBuilder b, TreeTraversalProgram p, LeafTable table, Aggregate aggregate, string x)
    {
        var f = p.Forest;
        int nodes = p.NodeFeatures.Length, width = table.Width;
        var feature = p.NodeFeatures.Select(v => (long)(v & int.MaxValue)).ToArray();
        var nanLeft = p.NodeFeatures.Select(v => v < 0).ToArray();
        var rule = RuleOf(nanLeft.Take(f.NodeCount));
        var rows = new float[nodes * width];
        for (int n = 0; n < nodes; n++)
            if (p.NodeLeaves[n] >= 0) table.Values.AsSpan(p.NodeLeaves[n] * width, width).CopyTo(rows.AsSpan(n * width));
        var roots = p.RootNodes;
        int trees = roots.Length;

        // Level 0 reads constants: every row starts at the same roots.
        var values = b.Op("Gather", "root_x", [x, b.Longs("root_feature", roots.Select(r => feature[r]).ToArray(), trees)], [IR.Attribute.Int("axis", 1)]);
        // When every node sends NaN left, "goes right" is one op (x > t) and Where takes the children swapped.
        bool right = rule == NanRule.Left;
        string Decide(string fx, string t, Func<string> nanLefts, string hint) =>
            right ? b.Op("Greater", hint + "_right", fx, t) : GoesLeft(b, fx, t, rule, nanLefts, hint + "_left");
        string Move(string hint, string decided, string lefts, string rights) => b.Op("Where", hint, decided, right ? rights : lefts, right ? lefts : rights);
        var decided = Decide(values, b.Floats("root_threshold", roots.Select(r => p.NodeThresholds[r]).ToArray(), trees),
            () => b.Bools("root_nan_left", roots.Select(r => nanLeft[r]).ToArray(), trees), "root");
        var index = Move("node", decided, b.Longs("root_lefts", roots.Select(r => (long)p.NodeLefts[r]).ToArray(), trees),
            b.Longs("root_rights", roots.Select(r => (long)p.NodeRights[r]).ToArray(), trees));
        string features = b.Longs("features", feature, nodes), thresholds = b.Floats("thresholds", p.NodeThresholds, nodes);
        string lefts = b.Longs("lefts", p.NodeLefts.Select(v => (long)v).ToArray(), nodes), rights = b.Longs("rights", p.NodeRights.Select(v => (long)v).ToArray(), nodes);
        string? nanLefts = null;
        for (int level = 1; level < f.MaxDepth; level++)
        {
            string at = index, hint = $"level{level}";
            var fx = b.Op("GatherElements", hint + "_x", [x, b.Op("Gather", hint + "_feature", features, at)], [IR.Attribute.Int("axis", 1)]);
            var step = Decide(fx, b.Op("Gather", hint + "_threshold", thresholds, at),
                () => b.Op("Gather", hint + "_nan_left", nanLefts ??= b.Bools("nan_lefts", nanLeft, nodes), at), hint);
            index = Move(hint + "_node", step, b.Op("Gather", hint + "_lefts", lefts, at), b.Op("Gather", hint + "_rights", rights, at));
        }
        var leafRows = b.Op("Gather", "leaf_rows", b.Floats("node_values", rows, nodes, width), index);
        return b.Reduce(ReduceOp(aggregate), leafRows, 1, false, "aggregate");
    }

    /// <summary>
    /// PerfectTreeTraversal, as Hummingbird computes it: trees padded to depth D, one feature and one
    /// threshold array per level, where level ℓ holds tree t's nodes at t·2^ℓ + j; a row's index at the
    /// next level is 2·index + (goes right) — heap order's child 2i+1+right with the level's offset taken
    /// out — so no child is ever looked up. Padding nodes send everything left (threshold +inf, NaN left).
    /// </summary>
    public static string PerfectTreeTraversal(TensorProgramBuilder b, PerfectTreeTraversalProgram p, LeafTable table, Aggregate aggregate, string x)
    {
        int depth = p.Depth, inner = (1 << depth) - 1, trees = p.Forest.TreeCount, width = table.Width;
        var heap = p.HeapFeatures;
        var rule = RuleOf(heap.Take(trees * inner).Select(v => v < 0));
        // Level l's arrays: entry t·2^l + j is heap node 2^l - 1 + j of tree t.
        T[] Level<T>(int level, Func<int, T> at) =>
            Enumerable.Range(0, trees << level).Select(e => at((e >> level) * inner + (1 << level) - 1 + (e & ((1 << level) - 1)))).ToArray();
        long Feature(int h) => heap[h] & int.MaxValue;

        var values = b.Op("Gather", "root_x", [x, b.Longs("root_feature", Level(0, Feature), trees)], [IR.Attribute.Int("axis", 1)]);
        var right = GoesRight(b, values, b.Floats("root_threshold", Level(0, h => p.HeapThresholds[h]), trees), rule,
            () => b.Bools("root_nan_right", Level(0, h => heap[h] >= 0), trees), "root_right");
        var index = b.Op("Add", "level1_index", b.Cast(right, DataType.Int64, "root_step"), b.Longs("tree_offsets", Enumerable.Range(0, trees).Select(t => 2L * t).ToArray(), trees));
        var two = b.Const("two", Tensor.Scalar(2L));
        for (int level = 1; level < depth; level++)
        {
            string hint = $"level{level}", at = index;
            int size = trees << level;
            var fx = b.Op("GatherElements", hint + "_x", [x, b.Op("Gather", hint + "_feature", b.Longs(hint + "_features", Level(level, Feature), size), at)], [IR.Attribute.Int("axis", 1)]);
            var goRight = GoesRight(b, fx, b.Op("Gather", hint + "_threshold", b.Floats(hint + "_thresholds", Level(level, h => p.HeapThresholds[h]), size), at), rule,
                () => b.Op("Gather", hint + "_nan_right", b.Bools(hint + "_nan_rights", Level(level, h => heap[h] >= 0), size), at), hint + "_right");
            index = b.Op("Add", $"level{level + 1}_index", b.Op("Mul", hint + "_twice", at, two), b.Cast(goRight, DataType.Int64, hint + "_step"));
        }
        var leaves = new float[(trees << depth) * width];
        for (int e = 0; e < trees << depth; e++) table.Values.AsSpan(p.HeapLeaves[e] * width, width).CopyTo(leaves.AsSpan(e * width));
        var leafRows = b.Op("Gather", "leaf_rows", b.Floats("leaf_values", leaves, trees << depth, width), index);
        return b.Reduce(ReduceOp(aggregate), leafRows, 1, false, "aggregate");
    }
}
