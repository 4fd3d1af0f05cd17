namespace Loom.Lowering.Trees;

/// <summary>
/// Picks the strategy for an ensemble and a batch. Hummingbird's rule (GEMM up to depth 3,
/// PerfectTreeTraversal up to depth 10, TreeTraversal beyond) was measured on CPU with
/// <c>bench/Loom.Bench -- trees</c>; the numbers and the reasoning are in docs/trees.md. In short, on
/// CPU the interleaved walk beats all three of Hummingbird's strategies at every depth and batch
/// size we measured, so it is the pick wherever its layout applies.
/// </summary>
public static class StrategyHeuristic
{
    public static TreeStrategy Pick(FlatForest forest, int rows)
    {
        if (forest.HasGeneral) return TreeStrategy.TreeTraversal; // the generic walk; see TreeEnsembleKernel
        return TreeStrategy.Interleaved;
    }

    /// <summary>Whether a forced strategy can compile this forest; otherwise the kernel falls back to <see cref="Pick"/>'s choice.</summary>
    /// <remarks>
    /// A forest with EQ/NEQ nodes (or MEMBER nodes that are not small integer sets) runs the generic walk
    /// whatever the strategy; one with category sets runs the interleaved walk, or the generic walk when
    /// a Hummingbird strategy is forced (they encode only ≤ tests).
    /// </remarks>
    public static bool Applies(TreeStrategy s, FlatForest forest) => !forest.OnlyLeq || s switch
    {
        TreeStrategy.Gemm => GemmProgram.Fits(forest),
        TreeStrategy.PerfectTreeTraversal => PerfectTreeTraversalProgram.Fits(forest),
        _ => true,
    };

    public static TreeProgram Compile(TreeStrategy s, FlatForest forest) => s switch
    {
        _ when forest.HasGeneral => new GenericProgram(forest),
        TreeStrategy.Auto or TreeStrategy.Interleaved => new InterleavedProgram(forest),
        _ when forest.HasCategorical => new GenericProgram(forest),
        TreeStrategy.Gemm => new GemmProgram(forest),
        TreeStrategy.TreeTraversal => new TreeTraversalProgram(forest),
        TreeStrategy.PerfectTreeTraversal => new PerfectTreeTraversalProgram(forest),
        _ => new InterleavedProgram(forest),
    };
}
