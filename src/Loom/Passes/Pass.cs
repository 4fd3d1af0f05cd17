using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// One graph rewrite: a function from model to model that returns the same object when it changes
/// nothing. <see cref="NeedsTypes"/> says it reads inferred types (<see cref="Graph.ValueTypes"/>), so
/// the pipeline re-runs shape inference before it when an earlier pass changed the model.
/// </summary>
public sealed record Pass(string Name, Func<Model, Model> Run, bool NeedsTypes);

/// <summary>Knobs of the optimization passes.</summary>
public sealed record PassOptions
{
    /// <summary>
    /// Constant folding leaves a node alone when an output would take more bytes than this, so a
    /// 10-element Expand does not turn into a huge initializer (or a slow model load).
    /// </summary>
    public long MaxFoldedTensorBytes { get; init; } = ConstantFolding.DefaultMaxTensorBytes;
}

/// <summary>What one pass did: node counts (subgraphs included) and initializer counts before and after.</summary>
public sealed record PassReport(int Round, string Pass, int NodesBefore, int NodesAfter, int InitializersBefore, int InitializersAfter, TimeSpan Elapsed)
{
    public bool Changed { get; init; }
}
