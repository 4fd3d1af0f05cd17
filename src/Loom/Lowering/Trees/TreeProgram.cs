namespace Loom.Lowering.Trees;

/// <summary>How a tree ensemble is evaluated; <see cref="Auto"/> lets <see cref="StrategyHeuristic"/> pick per call.</summary>
public enum TreeStrategy
{
    Auto,
    /// <summary>Hummingbird's GEMM: node conditions, then a product with each tree's leaf-path matrix.</summary>
    Gemm,
    /// <summary>Hummingbird's TreeTraversal: gather-based walk, one level per step over all rows and trees of a block.</summary>
    TreeTraversal,
    /// <summary>Hummingbird's PerfectTreeTraversal: trees padded to the deepest tree's depth, child = 2i+1+right.</summary>
    PerfectTreeTraversal,
    /// <summary>
    /// Loom's own: per tree, a branch-free walk of 8 rows (or, for tiny batches, 8 trees) at once, siblings
    /// stored side by side so a step is one node load, one feature load, one compare and an add. The 8
    /// independent walks keep the core's load units busy where one walk would wait on each load.
    /// </summary>
    Interleaved,
}

/// <summary>
/// One strategy's compiled form of a <see cref="FlatForest"/>: it finds, for a range of rows and a
/// range of trees, the leaf each row reaches in each tree. Immutable after construction and safe to
/// call from many threads (scratch comes from the caller or a pool).
/// </summary>
public abstract class TreeProgram(FlatForest forest)
{
    public FlatForest Forest { get; } = forest;

    public abstract TreeStrategy Strategy { get; }

    /// <summary>
    /// Writes the leaf index row <c>r</c> reaches in tree <c>t</c> to <c>leaves[(r - rowStart) * stride + t - treeStart]</c>
    /// for rows [rowStart, rowEnd) of <paramref name="x"/> (row-major, <paramref name="features"/> per row) and trees [treeStart, treeEnd).
    /// </summary>
    public abstract void Leaves(ReadOnlySpan<float> x, int features, int rowStart, int rowEnd, int treeStart, int treeEnd, Span<int> leaves, int stride);

    /// <summary>
    /// The fused form for ensembles whose leaves each hold one value and whose trees each feed one target:
    /// adds, tree by tree in order, the value of the leaf row r reaches in tree t to
    /// <c>acc[treeTarget[t] * accStride + r - rowStart]</c> for rows [rowStart, rowEnd) and all trees.
    /// The additions happen in the same order as summing the leaves afterwards, so the sums are identical.
    /// Returns false when the strategy has no fused form.
    /// </summary>
    public virtual bool Accumulate(ReadOnlySpan<float> x, int features, int rowStart, int rowEnd, int[] treeTarget, Span<double> acc, int accStride) => false;
}

/// <summary>The scalar walk by <see cref="FlatForest.GoesLeft"/>; for forests with EQ/NEQ/MEMBER nodes, which the fast layouts do not encode.</summary>
public sealed class GenericProgram(FlatForest forest) : TreeProgram(forest)
{
    public override TreeStrategy Strategy => TreeStrategy.TreeTraversal;

    public override void Leaves(ReadOnlySpan<float> x, int features, int rowStart, int rowEnd, int treeStart, int treeEnd, Span<int> leaves, int stride)
    {
        var f = Forest;
        for (int r = rowStart; r < rowEnd; r++)
        {
            var row = x.Slice(r * features, features);
            for (int t = treeStart; t < treeEnd; t++)
            {
                int n = f.Roots[t];
                while (n >= 0) n = f.GoesLeft(n, row[f.Feature[n]]) ? f.Left[n] : f.Right[n];
                leaves[(r - rowStart) * stride + t - treeStart] = ~n;
            }
        }
    }
}
