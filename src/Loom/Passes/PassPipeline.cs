using System.Collections.Immutable;
using System.Diagnostics;
using Loom.Inference;
using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// An ordered list of passes, run once each. Passes read inferred types (<see cref="Graph.ValueTypes"/>)
/// and keep them valid — they never change what a surviving name holds, they only remove names or give
/// a value a name whose type it already has — so shape inference runs once before the passes (unless
/// the caller's model is already inferred) and once after them if any changed the model, not between.
/// Each pass handles its own chains (Conv → BatchNormalization → Mul → Add folds in one sweep), so one sweep suffices. In
/// Debug builds the <see cref="Verifier"/> checks the IR after every pass that changed it.
/// </summary>
public sealed class PassPipeline(IEnumerable<Pass> passes)
{
    public ImmutableArray<Pass> Passes { get; } = passes.ToImmutableArray();

    /// <summary>
    /// Level 0: nothing. Level 1 (basic): constant folding, common-subexpression and dead-code
    /// elimination (after making the initializer inputs of IR version 3 models plain constants).
    /// Level 2: common subexpressions first as well — light models build their weights with thousands of
    /// identical ConstantOfShape nodes, and merging them first leaves constant folding a tenth of the work —
    /// then also no-op removal and folding BatchNormalization and per-channel Mul and Add into the
    /// Conv (ConvTranspose, Gemm, MatMul, BatchNormalization) before them, and with
    /// <see cref="PassOptions.LoomOperators"/> moving a Relu after a Concat onto its inputs (<see cref="ReluIntoConcat"/>), fusing
    /// Conv with its residual Add, activation and
    /// pre-activation into <c>com.loom.FusedConv</c>, folding channel shuffles into the depthwise convolutions they feed
    /// (<see cref="FoldChannelShuffle"/>), then chains of element-wise nodes into
    /// <c>com.loom.ElementwiseChain</c>. With
    /// <see cref="PassOptions.TreeLowering"/> TensorProgram, every level starts by lowering tree ensembles,
    /// so that constant folding then folds the lowered programs' constant first steps.
    /// </summary>
    public static PassPipeline ForLevel(int level, PassOptions? options = null)
    {
        options ??= new PassOptions();
        var passes = Optimizations(level, options);
        if (options.TreeLowering == Lowering.Trees.TreeLowering.TensorProgram)
        {
            var strategy = options.TreeStrategy;
            passes.Insert(0, new Pass("lower-tree-ensembles", m => Lowering.Trees.LowerTreeEnsembles.Run(m, strategy), Reinfers: true));
        }
        return new PassPipeline(passes);
    }

    private static List<Pass> Optimizations(int level, PassOptions options)
    {
        var constants = new Pass("initializer-inputs", InitializerInputs.Run);
        var fold = new Pass("constant-folding", m => ConstantFolding.Run(m, options.MaxFoldedTensorBytes,
            Math.Max(options.MaxFoldedTensorBytes, options.MaxFoldedWeightBytes ?? 0)));
        var cse = new Pass("common-subexpression-elimination", CommonSubexpressionElimination.Run);
        var dce = new Pass("dead-code-elimination", DeadCodeElimination.Run);
        return level switch
        {
            <= 0 => [],
            1 => [constants, fold, cse, dce],
            _ => [
                constants,
                cse,
                fold,
                new Pass("no-op-elimination", NoOpElimination.Run),
                new Pass("affine-folding", AffineFolding.Run),
                cse,
                dce,
                .. options.LoomOperators
                    ? [new Pass("relu-into-concat", ReluIntoConcat.Run), new Pass("fuse-conv-activation", FuseConvActivation.Run),
                        new Pass("fuse-conv-mean", FuseConvMean.Run),
                        new Pass("fold-channel-shuffle", FoldChannelShuffle.Run),
                        new Pass("fuse-elementwise-chains", FuseElementwiseChains.Run)]
                    : Array.Empty<Pass>(),
            ],
        };
    }

    /// <summary>
    /// Optimizes <paramref name="model"/>; <paramref name="typesUpToDate"/> says its value types are
    /// what <see cref="ShapeInference"/> computes (saves one inference). Appends what each pass did to
    /// <paramref name="report"/> when given. The result carries up-to-date inferred types.
    /// </summary>
    public Model Run(Model model, bool typesUpToDate = false, List<PassReport>? report = null)
    {
        if (!typesUpToDate) model = ShapeInference.Run(model);
        bool changed = false;
        foreach (var pass in Passes)
        {
            var sw = Stopwatch.StartNew();
            var after = pass.Run(model);
            sw.Stop();
            bool passChanged = !ReferenceEquals(after, model);
            if (passChanged && pass.Reinfers) after = ShapeInference.Run(after);
#if DEBUG
            if (passChanged) Verifier.Verify(after);
#endif
            report?.Add(new PassReport(pass.Name, CountNodes(model.Graph), CountNodes(after.Graph),
                CountInitializers(model.Graph), CountInitializers(after.Graph), sw.Elapsed));
            changed |= passChanged;
            model = after;
        }
        return changed ? ShapeInference.Run(model) : model;
    }

    public static int CountNodes(Graph g) => g.AllNodes().Count();

    public static int CountInitializers(Graph g) =>
        g.Initializers.Count + g.Nodes.SelectMany(n => n.Subgraphs).Sum(CountInitializers);
}
