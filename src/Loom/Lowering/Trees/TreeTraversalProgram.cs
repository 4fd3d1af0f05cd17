using System.Buffers;

namespace Loom.Lowering.Trees;

/// <summary>
/// Hummingbird's TreeTraversal: the nodes of all trees in flat arrays (feature, threshold, left, right),
/// leaves as nodes that point to themselves, and a level-synchronous walk: each pass moves every
/// (row, tree) pair of a block one level down by gathering its node's fields, for as many passes as
/// the deepest tree has levels.
/// </summary>
public sealed class TreeTraversalProgram : TreeProgram
{
    private const int BlockRows = 64;

    private readonly int[] _feature; // top bit: NaN goes left
    private readonly float[] _threshold;
    private readonly int[] _left, _right;
    private readonly int[] _leaf; // leaf index of a leaf node, -1 elsewhere
    private readonly int[] _root;

    // The node arrays, read by LowerTreeEnsembles to write the strategy as a tensor program.
    internal int[] NodeFeatures => _feature;
    internal float[] NodeThresholds => _threshold;
    internal int[] NodeLefts => _left;
    internal int[] NodeRights => _right;
    internal int[] NodeLeaves => _leaf;
    internal int[] RootNodes => _root;

    public TreeTraversalProgram(FlatForest forest) : base(forest)
    {
        if (!forest.OnlyLeq) throw new UnsupportedException("TreeTraversal's arrays encode only <= comparisons");
        int branches = forest.NodeCount, leaves = forest.Spec.LeafCount, n = branches + leaves;
        _feature = new int[n];
        _threshold = new float[n];
        _left = new int[n];
        _right = new int[n];
        _leaf = new int[n];
        int Node(int child) => child >= 0 ? child : branches + ~child;
        for (int i = 0; i < branches; i++)
        {
            _feature[i] = forest.Feature[i] | (forest.NanLeft[i] ? int.MinValue : 0);
            _threshold[i] = forest.Threshold[i];
            _left[i] = Node(forest.Left[i]);
            _right[i] = Node(forest.Right[i]);
            _leaf[i] = -1;
        }
        for (int l = 0; l < leaves; l++)
        {
            int i = branches + l;
            (_feature[i], _threshold[i], _left[i], _right[i], _leaf[i]) = (0, float.PositiveInfinity, i, i, l);
        }
        _root = forest.Roots.Select(Node).ToArray();
    }

    public override TreeStrategy Strategy => TreeStrategy.TreeTraversal;

    public override void Leaves(ReadOnlySpan<float> x, int features, int rowStart, int rowEnd, int treeStart, int treeEnd, Span<int> leaves, int stride)
    {
        int trees = treeEnd - treeStart;
        int depth = 0;
        for (int t = treeStart; t < treeEnd; t++) depth = Math.Max(depth, Forest.Depths[t]);
        var idx = ArrayPool<int>.Shared.Rent(BlockRows * trees);
        try
        {
            for (int r0 = rowStart; r0 < rowEnd; r0 += BlockRows)
            {
                int rows = Math.Min(BlockRows, rowEnd - r0);
                for (int r = 0; r < rows; r++) _root.AsSpan(treeStart, trees).CopyTo(idx.AsSpan(r * trees, trees));
                for (int level = 0; level < depth; level++)
                    for (int r = 0; r < rows; r++)
                    {
                        var row = x.Slice((r0 + r) * features, features);
                        for (int t = 0; t < trees; t++)
                        {
                            ref int i = ref idx[r * trees + t];
                            int f = _feature[i];
                            float v = row[f & int.MaxValue];
                            bool left = v <= _threshold[i] || (float.IsNaN(v) && f < 0);
                            i = left ? _left[i] : _right[i];
                        }
                    }
                for (int r = 0; r < rows; r++)
                    for (int t = 0; t < trees; t++)
                        leaves[(r0 + r - rowStart) * stride + t] = _leaf[idx[r * trees + t]];
            }
        }
        finally { ArrayPool<int>.Shared.Return(idx); }
    }
}
