using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// One graph rewrite: a function from model to model that returns the same object when it changes
/// nothing. It may read the inferred types of values and must leave every surviving name's type valid.
/// </summary>
public sealed record Pass(string Name, Func<Model, Model> Run);

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
public sealed record PassReport(string Pass, int NodesBefore, int NodesAfter, int InitializersBefore, int InitializersAfter, TimeSpan Elapsed);
