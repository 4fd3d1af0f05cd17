namespace Loom.Streams.Graph;

/// <summary>
/// A filter of a model lowered into a stream (<see cref="Models.ModelStream"/>): a contiguous slice of the
/// model's topologically ordered graph, run as a Loom session. It pops one item (the named tensors that cross
/// into the slice) and pushes one (what it adds); it keeps nothing between items, so it is stateless and may
/// be fissioned. Its copies share one session (<see cref="LoomSession.Run(IReadOnlyDictionary{string, LoomValue}, CancellationToken)"/>
/// is safe from many threads), not one each.
/// </summary>
public sealed class ModelStageNode : StreamNode
{
    /// <summary>The stage's number in the pipeline (copies made by fission keep it).</summary>
    public required int Stage { get; init; }
    /// <summary>Positions [First, End) of its nodes in the optimized graph's line order (<see cref="Models.CutProfile"/>: topological, weight-only nodes beside their reader).</summary>
    public required int First { get; init; }
    public required int End { get; init; }
    /// <summary>Values it reads from earlier stages or the model's inputs, and the bytes they hold at the planned dims.</summary>
    public required IReadOnlyList<string> Reads { get; init; }
    public required long ReadBytes { get; init; }
    /// <summary>The cost model's seconds for one item on one thread.</summary>
    public required double PredictedSeconds { get; init; }
    /// <summary>Carries a model's recurrent state from item to item: a stateful filter, never fissioned.</summary>
    public bool IsStateful { get; init; }
    /// <summary>
    /// Items it pops (and pushes) per firing, run as one batch (StreamIt's scaling of a filter: k steady states a
    /// firing); more than 1 only for a batch-separable stage whose weights outgrow the last-level cache.
    /// </summary>
    public int ItemsPerFiring { get; init; } = 1;

    public string Describe() => System.FormattableString.Invariant(
        $"nodes {First}..{End - 1}{(ItemsPerFiring > 1 ? $", {ItemsPerFiring} items per firing as one batch" : "")}, reads {Reads.Count} tensor(s) {ReadBytes / 1024.0:F0} KiB, predicted {PredictedSeconds * 1e3:F2} ms");
}
