namespace Loom.Streams.Models;

/// <summary>How <see cref="ModelStream"/> plans and runs a model as a stream.</summary>
public sealed class ModelStreamOptions
{
    /// <summary>Cores the stream's stage copies run on (one thread each).</summary>
    public int Cores { get; init; } = Environment.ProcessorCount;

    /// <summary>Stages to cut the model into; null lets the cost model choose (1..Cores).</summary>
    public int? Stages { get; init; }

    /// <summary>
    /// Items each stage copy takes per firing and runs as one batch (1 = one at a time); null lets the planner choose
    /// per stage (StreamPlanner's choice: more than 1 only where the weights outgrow the last-level
    /// cache, so they come from memory every item). A stage that holds state or is not batch-separable runs one item at a time whatever is given.
    /// </summary>
    public int? ItemsPerFiring { get; init; }

    /// <summary>Items admitted and not yet handed back to the caller (back-pressure); 0 = two firings' worth per stage copy.</summary>
    public int MaxInFlight { get; init; }

    /// <summary>
    /// Sizes of the model's symbolic input dims the plan is costed at. When some are missing, the plan is made
    /// at the first item's sizes instead.
    /// </summary>
    public IReadOnlyDictionary<string, long>? Dims { get; init; }

    /// <summary>Timings the plan is costed with; null = this machine's (probed once and cached). Tests fix it for determinism.</summary>
    public Loom.Scheduling.MachineProfile? MachineProfile { get; init; }

    /// <summary>A core's private cache in bytes; null = read from the system (1 MiB when unknown).</summary>
    public long? PrivateCacheBytes { get; init; }

    /// <summary>The last-level cache in bytes (all cores'); null = read from the system (8 MiB when unknown). Stages whose weights outgrow it may batch items.</summary>
    public long? SharedCacheBytes { get; init; }

    /// <summary>The graph passes applied before cutting (<see cref="LoomSessionOptions.OptimizationLevel"/>).</summary>
    public int OptimizationLevel { get; init; } = 2;

    /// <summary>
    /// Constant folding's limit per tensor (<see cref="LoomSessionOptions.MaxFoldedTensorBytes"/>; the same 64 KiB
    /// by default). Raising it makes a big weight that a node computes (ConstantOfShape, say) once for the whole
    /// stream instead of once per item, at the cost of holding it; on this project's VM it measured no faster.
    /// </summary>
    public long MaxFoldedTensorBytes { get; init; } = DefaultMaxFoldedTensorBytes;

    /// <summary>
    /// Recurrent state carried from item to item, as model output name → model input name: item n's output feeds
    /// item n + 1's input (an LSTM's <c>Y_h</c> → <c>initial_h</c> over a stream of audio chunks). The first item's
    /// state is zeros unless the item gives that input; an item that gives it later restarts the state from its
    /// value. The nodes from the first reader of the input to the maker of the output form one stateful stage that
    /// runs items one at a time, in order (never fissioned); the rest of the model still pipelines and splits.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Feedback { get; init; }

    public const long DefaultMaxFoldedTensorBytes = Loom.Passes.ConstantFolding.DefaultMaxTensorBytes;
}
