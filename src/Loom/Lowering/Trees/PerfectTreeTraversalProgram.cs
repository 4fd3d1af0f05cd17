using System.Buffers;

namespace Loom.Lowering.Trees;

/// <summary>
/// Hummingbird's PerfectTreeTraversal: every tree is padded to the depth D of the deepest tree and
/// stored as an implicit heap (node i has children 2i+1 and 2i+2), so a step needs no child lookup.
/// A leaf above depth D becomes a chain of always-left nodes ending in its own value. As in
/// Hummingbird, the walk is level-synchronous: one level per pass over all (row, tree) pairs of a block.
/// </summary>
public sealed class PerfectTreeTraversalProgram : TreeProgram
{
    private const int BlockRows = 64;
    /// <summary>Padding grows as 2^D per tree; past this many nodes the strategy is not offered.</summary>
    public const long MaxPaddedNodes = 1L << 26;

    private readonly int _depth;
    private readonly int _internal; // 2^D - 1 nodes per tree
    private readonly int[] _feature; // top bit: NaN goes left
    private readonly float[] _threshold;
    private readonly int[] _leaf; // 2^D per tree

    // The padded heaps, read by LowerTreeEnsembles to write the strategy as a tensor program.
    internal int Depth => _depth;
    internal int[] HeapFeatures => _feature;
    internal float[] HeapThresholds => _threshold;
    internal int[] HeapLeaves => _leaf;

    public static bool Fits(FlatForest f) => f.OnlyLeq && f.MaxDepth < 30 && ((1L << f.MaxDepth) * 2 * f.TreeCount) <= MaxPaddedNodes;

    public PerfectTreeTraversalProgram(FlatForest forest) : base(forest)
    {
        if (!Fits(forest)) throw new UnsupportedException($"PerfectTreeTraversal: padding {forest.TreeCount} trees to depth {forest.MaxDepth} is too large or the trees have non-<= comparisons");
        _depth = forest.MaxDepth;
        _internal = (1 << _depth) - 1;
        int trees = forest.TreeCount;
        _feature = new int[Math.Max(1, trees * _internal)];
        _threshold = new float[_feature.Length];
        _leaf = new int[trees << _depth];
        for (int t = 0; t < trees; t++) Fill(t, forest.Roots[t], 0);
    }

    private void Fill(int tree, int child, int heap)
    {
        if (heap >= _internal)
        {
            _leaf[(tree << _depth) + heap - _internal] = child < 0 ? ~child : throw new InvalidOperationException("tree deeper than its depth");
            return;
        }
        int at = tree * _internal + heap;
        if (child < 0)
        {
            // Padding: always left (threshold +inf, NaN left); the right subtree is never reached.
            _feature[at] = int.MinValue;
            _threshold[at] = float.PositiveInfinity;
            Fill(tree, child, 2 * heap + 1);
            FillUnreached(tree, 2 * heap + 2);
            return;
        }
        var f = Forest;
        _feature[at] = f.Feature[child] | (f.NanLeft[child] ? int.MinValue : 0);
        _threshold[at] = f.Threshold[child];
        Fill(tree, f.Left[child], 2 * heap + 1);
        Fill(tree, f.Right[child], 2 * heap + 2);
    }

    private void FillUnreached(int tree, int heap)
    {
        if (heap >= _internal) { _leaf[(tree << _depth) + heap - _internal] = 0; return; }
        _feature[tree * _internal + heap] = int.MinValue;
        _threshold[tree * _internal + heap] = float.PositiveInfinity;
        FillUnreached(tree, 2 * heap + 1);
        FillUnreached(tree, 2 * heap + 2);
    }

    public override TreeStrategy Strategy => TreeStrategy.PerfectTreeTraversal;

    public override void Leaves(ReadOnlySpan<float> x, int features, int rowStart, int rowEnd, int treeStart, int treeEnd, Span<int> leaves, int stride)
    {
        int trees = treeEnd - treeStart;
        var idx = ArrayPool<int>.Shared.Rent(BlockRows * trees);
        try
        {
            for (int r0 = rowStart; r0 < rowEnd; r0 += BlockRows)
            {
                int rows = Math.Min(BlockRows, rowEnd - r0);
                Array.Clear(idx, 0, rows * trees);
                for (int level = 0; level < _depth; level++)
                    for (int r = 0; r < rows; r++)
                    {
                        var row = x.Slice((r0 + r) * features, features);
                        for (int t = 0; t < trees; t++)
                        {
                            ref int i = ref idx[r * trees + t];
                            int at = (treeStart + t) * _internal + i;
                            int f = _feature[at];
                            float v = row[f & int.MaxValue];
                            int left = (v <= _threshold[at] ? 1 : 0) | ((float.IsNaN(v) ? 1 : 0) & (int)((uint)f >> 31));
                            i = 2 * i + 2 - left;
                        }
                    }
                for (int r = 0; r < rows; r++)
                    for (int t = 0; t < trees; t++)
                        leaves[(r0 + r - rowStart) * stride + t] = _leaf[((treeStart + t) << _depth) + idx[r * trees + t] - _internal];
            }
        }
        finally { ArrayPool<int>.Shared.Return(idx); }
    }
}
