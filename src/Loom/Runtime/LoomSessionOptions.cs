namespace Loom;

/// <summary>How a <see cref="LoomSession"/> loads and runs a model.</summary>
public sealed class LoomSessionOptions
{
    /// <summary>Largest tensor (in bytes) Loom will read from a model or allocate while running; larger ones are a <see cref="ResourceLimitException"/>.</summary>
    public long MaxTensorBytes { get; init; } = 4L << 30;

    /// <summary>Largest model file Loom will read.</summary>
    public long MaxModelBytes { get; init; } = int.MaxValue;

    /// <summary>Folder that external tensor data is relative to; defaults to the model file's folder.</summary>
    public string? ExternalDataDirectory { get; init; }

    /// <summary>Threads a single kernel may use (the calling thread included); default: one per core.</summary>
    public int IntraOpThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// <see cref="Loom.ExecutionMode.Parallel"/> (the default) schedules the graph over the
    /// <see cref="IntraOpThreads"/> threads when there are several: independent branches run side by side,
    /// and nodes with nothing beside them use every thread. <see cref="Loom.ExecutionMode.Sequential"/> runs
    /// nodes one by one in graph order, each with every thread.
    /// </summary>
    public ExecutionMode ExecutionMode { get; init; } = ExecutionMode.Parallel;

    /// <summary>
    /// In parallel mode, give every node one thread and find all parallelism between nodes (to measure
    /// the schedule alone). Off by default: the scheduler decides which nodes get every thread.
    /// </summary>
    public bool InterOpOnly { get; init; }

    /// <summary>
    /// For a model exported for one sample at a time (every input's first dim is 1): make that dim the
    /// symbol <c>batch</c> so it runs on batches, when the model provably computes each sample on its own
    /// (<see cref="Scheduling.BatchGeneralization"/>); otherwise the model loads as it is. Off by default.
    /// </summary>
    public bool GeneralizeBatch { get; init; }

    /// <summary>
    /// In parallel mode, when the inputs are concrete at load time: copy a cheap node whose output the
    /// schedule sends to other workers onto those workers, when that shortens the predicted schedule
    /// (<see cref="Passes.NodeCloning"/>). On by default; results are the same either way, bit for bit.
    /// </summary>
    public bool NodeCloning { get; init; } = true;

    /// <summary>
    /// Threads shared by several sessions (ONNX Runtime's global thread pool): with <see cref="IntraOpThreads"/>
    /// threads, used instead of the session's own pool, and disposed by its owner, not by the session. Idle
    /// workers of one pool spin for a while before they sleep, so the pools of sessions run one after another in
    /// one process take cores from each other (measured: a small network at 2.9 ms alone, 6–8 ms right after
    /// another session's runs); one pool for all of them avoids that. A run that finds the pool busy (another
    /// session running at the same time) runs its kernels on its own thread.
    /// </summary>
    public Runtime.Threading.WorkerPool? SharedPool { get; init; }

    /// <summary>
    /// The machine's measured kernel speeds for the scheduler's cost model; null (the default) probes this
    /// machine once and caches the result. Tests set <see cref="Scheduling.MachineProfile.Fixed"/> to get the
    /// same schedule everywhere.
    /// </summary>
    public Scheduling.MachineProfile? MachineProfile { get; init; }

    /// <summary>
    /// After every node, check that each output's shape equals the shape inference predicted (with the
    /// run's symbol bindings). Costs a little time; the conformance runner and tests turn it on.
    /// </summary>
    public bool VerifyInferredShapes { get; init; }

    /// <summary>
    /// How much the graph is optimized before it is compiled (see <see cref="Passes.PassPipeline.ForLevel"/>):
    /// 0 none; 1 constant folding, dead-code and common-subexpression elimination; 2 (default) also no-op
    /// removal and folding BatchNormalization, Mul and Add into the weights of the layer before them.
    /// </summary>
    public int OptimizationLevel { get; init; } = 2;

    /// <summary>Constant folding leaves a node alone when an output would take more bytes than this.</summary>
    public long MaxFoldedTensorBytes { get; init; } = Passes.ConstantFolding.DefaultMaxTensorBytes;

    /// <summary>
    /// How tree ensembles (ONNX-ML TreeEnsemble*, LightGBM and XGBoost imports) are evaluated on float32
    /// inputs; Auto picks per batch by the measured heuristic. A forced strategy that cannot compile a
    /// model's trees (GEMM for deep trees, say) is an <see cref="UnsupportedException"/> at load.
    /// </summary>
    public Lowering.Trees.TreeStrategy TreeStrategy { get; init; }

    /// <summary>
    /// Fused (default): tree nodes run as one fused kernel each. TensorProgram: before the other passes,
    /// <see cref="Lowering.Trees.LowerTreeEnsembles"/> rewrites them into standard operators running the
    /// Hummingbird strategy <see cref="TreeStrategy"/> names (Auto: Hummingbird's rule by depth; Interleaved,
    /// which has no tensor form, is an <see cref="UnsupportedException"/>); nodes it cannot lower stay fused. The fused kernel is several times faster (docs/trees.md); the tensor program
    /// is there to run the same graph any ONNX runtime runs.
    /// </summary>
    public Lowering.Trees.TreeLowering TreeLowering { get; init; }
}

/// <summary>How a session runs a graph's nodes (see <see cref="LoomSessionOptions.ExecutionMode"/>).</summary>
public enum ExecutionMode
{
    /// <summary>One node after another in graph order, each with every intra-op thread.</summary>
    Sequential,
    /// <summary>As scheduled: independent nodes side by side on the intra-op threads.</summary>
    Parallel,
}
