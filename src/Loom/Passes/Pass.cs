using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// One graph rewrite: a function from model to model that returns the same object when it changes
/// nothing. It may read the inferred types of values and must leave every surviving name's type valid,
/// unless it declares <paramref name="Reinfers"/>: then it may add values without types (a lowering), and
/// the pipeline infers types again after it, before the next pass reads them.
/// </summary>
public sealed record Pass(string Name, Func<Model, Model> Run, bool Reinfers = false);

/// <summary>Knobs of the optimization passes.</summary>
public sealed record PassOptions
{
    /// <summary>
    /// Constant folding leaves a node alone when an output would take more bytes than this, so a
    /// 10-element Expand does not turn into a huge initializer (or a slow model load).
    /// </summary>
    public long MaxFoldedTensorBytes { get; init; } = ConstantFolding.DefaultMaxTensorBytes;

    /// <summary>TensorProgram puts <see cref="Lowering.Trees.LowerTreeEnsembles"/> first, at every level (0 included).</summary>
    public Lowering.Trees.TreeLowering TreeLowering { get; init; }

    /// <summary>The Hummingbird strategy tree nodes are lowered with (Auto: Hummingbird's rule by depth).</summary>
    public Lowering.Trees.TreeStrategy TreeStrategy { get; init; }

    /// <summary>
    /// Level 2 may rewrite into Loom's own operators (<c>com.loom.FusedConv</c>), which only Loom runs;
    /// sessions set this, <c>loom optimize</c> does not unless asked, so saved models stay portable.
    /// </summary>
    public bool LoomOperators { get; init; }
}

/// <summary>What one pass did: node counts (subgraphs included) and initializer counts before and after.</summary>
public sealed record PassReport(string Pass, int NodesBefore, int NodesAfter, int InitializersBefore, int InitializersAfter, TimeSpan Elapsed);
