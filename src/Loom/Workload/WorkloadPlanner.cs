using Loom.Inference;
using Loom.IR;

namespace Loom.Workload;

/// <summary>
/// From a model to workloads: infers shapes once, profiles the model at each micro-batch size it is asked
/// for (cached: a sweep asks for the same few sizes many times) and builds workloads with a time model.
/// </summary>
public sealed class WorkloadPlanner
{
    private readonly Model _model;
    private readonly IReadOnlyDictionary<string, long> _dims;
    private readonly Dictionary<long, ModelProfile> _profiles = new();

    public WorkloadPlanner(Model model, IReadOnlyDictionary<string, long> dims)
    {
        _model = ShapeInference.Run(model);
        _dims = dims;
        NativeBatch = ModelProfile.Analyze(_model, dims, null, inferred: true).Batch;
    }

    /// <summary>The batch the model runs at as exported (its leading input dim, or the --dim given for it).</summary>
    public long NativeBatch { get; }

    public ModelProfile Profile(long batch)
    {
        if (!_profiles.TryGetValue(batch, out var p)) _profiles[batch] = p = ModelProfile.Analyze(_model, _dims, batch, inferred: true);
        return p;
    }

    public WorkloadBuilder Builder(ParallelStrategy strategy, IComputeTimeModel time) =>
        new(Profile(strategy.Validated().MicroBatch), strategy, time);
}
