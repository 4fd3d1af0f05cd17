using System.Collections.Immutable;
using System.Diagnostics;
using Loom.Inference;
using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// An ordered list of passes run over a model until none changes anything (at most
/// <see cref="MaxRounds"/> times). Shape inference re-runs only before a pass that needs types and
/// after a change, and once at the end, so the result always carries up-to-date inferred types.
/// In Debug builds the <see cref="Verifier"/> checks the IR after every pass.
/// </summary>
public sealed class PassPipeline(IEnumerable<Pass> passes)
{
    public const int MaxRounds = 3;

    public ImmutableArray<Pass> Passes { get; } = passes.ToImmutableArray();

    /// <summary>
    /// Level 0: nothing. Level 1 (basic): constant folding, dead-code and common-subexpression
    /// elimination (after making the initializer inputs of IR version 3 models plain constants).
    /// Level 2: also no-op removal and folding BatchNormalization, Mul and Add into the weights of the
    /// Conv (ConvTranspose, Gemm, MatMul) before them.
    /// </summary>
    public static PassPipeline ForLevel(int level, PassOptions? options = null)
    {
        options ??= new PassOptions();
        var constants = new Pass("initializer-inputs", InitializerInputs.Run, NeedsTypes: false);
        var fold = new Pass("constant-folding", m => ConstantFolding.Run(m, options.MaxFoldedTensorBytes), NeedsTypes: true);
        var dce = new Pass("dead-code-elimination", DeadCodeElimination.Run, NeedsTypes: false);
        var cse = new Pass("common-subexpression-elimination", CommonSubexpressionElimination.Run, NeedsTypes: false);
        return level switch
        {
            <= 0 => new PassPipeline([]),
            1 => new PassPipeline([constants, fold, dce, cse]),
            _ => new PassPipeline([
                constants,
                fold,
                new Pass("no-op-elimination", NoOpElimination.Run, NeedsTypes: true),
                cse,
                new Pass("batchnorm-folding", BatchNormFolding.Run, NeedsTypes: true),
                new Pass("conv-mul-add-folding", ConvMulAddFolding.Run, NeedsTypes: false),
                dce,
            ]),
        };
    }

    /// <summary>
    /// Optimizes <paramref name="model"/>; <paramref name="typesUpToDate"/> says its value types are
    /// what <see cref="ShapeInference"/> would compute now (saves one inference). Appends what each
    /// pass did to <paramref name="report"/> when given.
    /// </summary>
    public Model Run(Model model, bool typesUpToDate = false, List<PassReport>? report = null)
    {
        bool fresh = typesUpToDate;
        for (int round = 1; round <= MaxRounds; round++)
        {
            bool changed = false;
            foreach (var pass in Passes)
            {
                if (pass.NeedsTypes && !fresh) { model = ShapeInference.Run(model); fresh = true; }
                var sw = Stopwatch.StartNew();
                var after = pass.Run(model);
                sw.Stop();
                bool passChanged = !ReferenceEquals(after, model);
#if DEBUG
                if (passChanged) Verifier.Verify(after);
#endif
                report?.Add(new PassReport(round, pass.Name, CountNodes(model.Graph), CountNodes(after.Graph),
                    CountInitializers(model.Graph), CountInitializers(after.Graph), sw.Elapsed) { Changed = passChanged });
                if (passChanged) { model = after; changed = true; fresh = false; }
            }
            if (!changed) break;
        }
        return fresh ? model : ShapeInference.Run(model);
    }

    public static int CountNodes(Graph g) => g.AllNodes().Count();

    public static int CountInitializers(Graph g) =>
        g.Initializers.Count + g.Nodes.SelectMany(n => n.Subgraphs).Sum(CountInitializers);
}
