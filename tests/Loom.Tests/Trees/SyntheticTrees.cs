using System.Globalization;
using System.Text;

namespace Loom.Tests.Trees;

/// <summary>Synthetic LightGBM models for tests and the bench (which links this file).</summary>
public static class SyntheticTrees
{
    /// <summary>LightGBM model text of <paramref name="trees"/> random perfect trees of <paramref name="depth"/> (regression).</summary>
    public static string ModelText(int trees, int depth, int seed, int features)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder();
        sb.Append("tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n");
        sb.Append($"max_feature_idx={features - 1}\nobjective=regression\n");
        sb.Append("feature_names=" + string.Join(' ', Enumerable.Range(0, features).Select(i => $"f{i}")) + "\n");
        sb.Append("feature_infos=" + string.Join(' ', Enumerable.Repeat("[0:1]", features)) + "\n\n");
        int internalNodes = (1 << depth) - 1, leaves = 1 << depth;
        var inv = CultureInfo.InvariantCulture;
        for (int t = 0; t < trees; t++)
        {
            // Heap order: node i has children 2i+1, 2i+2; the last level are leaves (negative ~leaf).
            int Child(int heap) => heap < internalNodes ? heap : ~(heap - internalNodes);
            sb.Append(inv, $"Tree={t}\nnum_leaves={leaves}\nnum_cat=0\n");
            sb.Append("split_feature=").AppendJoin(' ', Enumerable.Range(0, internalNodes).Select(_ => rng.Next(features))).Append('\n');
            sb.Append("split_gain=").AppendJoin(' ', Enumerable.Repeat("1", internalNodes)).Append('\n');
            sb.Append("threshold=").AppendJoin(' ', Enumerable.Range(0, internalNodes).Select(_ => rng.NextDouble().ToString("R", inv))).Append('\n');
            sb.Append("decision_type=").AppendJoin(' ', Enumerable.Repeat("2", internalNodes)).Append('\n');
            sb.Append("left_child=").AppendJoin(' ', Enumerable.Range(0, internalNodes).Select(i => Child(2 * i + 1))).Append('\n');
            sb.Append("right_child=").AppendJoin(' ', Enumerable.Range(0, internalNodes).Select(i => Child(2 * i + 2))).Append('\n');
            sb.Append("leaf_value=").AppendJoin(' ', Enumerable.Range(0, leaves).Select(_ => ((rng.NextDouble() - 0.5) * 0.1).ToString("R", inv))).Append('\n');
            sb.Append("leaf_weight=").AppendJoin(' ', Enumerable.Repeat("1", leaves)).Append('\n');
            sb.Append("leaf_count=").AppendJoin(' ', Enumerable.Repeat("1", leaves)).Append('\n');
            sb.Append("internal_value=").AppendJoin(' ', Enumerable.Repeat("0", internalNodes)).Append('\n');
            sb.Append("internal_weight=").AppendJoin(' ', Enumerable.Repeat("1", internalNodes)).Append('\n');
            sb.Append("internal_count=").AppendJoin(' ', Enumerable.Repeat("1", internalNodes)).Append('\n');
            sb.Append("is_linear=0\nshrinkage=1\n\n\n");
        }
        sb.Append("end of trees\n\nfeature_importances:\n\nparameters:\n[boosting: gbdt]\n[objective: regression]\nend of parameters\n\npandas_categorical:null\n");
        return sb.ToString();
    }
}
