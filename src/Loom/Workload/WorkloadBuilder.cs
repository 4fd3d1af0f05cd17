namespace Loom.Workload;

/// <summary>
/// Builds each rank's workload graph for one step from a <see cref="ModelProfile"/> at the micro-batch size:
/// forward (and for training backward) nodes per micro-batch in 1F1B pipeline order, the collectives
/// tensor parallelism implies, point-to-point sends between pipeline stages, bucketed data-parallel
/// gradient all-reduces and the optimizer update. Node ids follow the order a device should prefer.
/// </summary>
public sealed partial class WorkloadBuilder
{
    private readonly ModelProfile _profile;
    private readonly ParallelStrategy _s;
    private readonly IComputeTimeModel _time;
    private readonly IReadOnlyList<TpOpPlan> _tp;
    private readonly int[] _stage;
    private readonly bool[] _needsGrad;        // op has some output whose gradient is needed
    private readonly HashSet<string> _gradValues = new(); // values whose gradient is needed
    private readonly Dictionary<string, int> _producer = new();
    private readonly List<(string Value, int From, int To, long Bytes, bool Split)> _boundaries = new();

    public WorkloadBuilder(ModelProfile microBatchProfile, ParallelStrategy strategy, IComputeTimeModel time)
    {
        _profile = microBatchProfile;
        _s = strategy.Validated();
        _time = time;
        _tp = TensorParallelPlan.Build(_profile, _s.TensorParallel);
        var ops = _profile.Ops;
        foreach (var op in ops) foreach (var o in op.Outputs) _producer[o] = op.Index;

        _needsGrad = new bool[ops.Count];
        foreach (var op in ops)
        {
            bool g = op.Params.Count > 0 || op.ActivationInputs.Any(_gradValues.Contains);
            if (!g || !_s.Training) continue;
            _needsGrad[op.Index] = true;
            foreach (var o in op.Outputs) _gradValues.Add(o);
        }

        var costs = ops.Select(op => ForwardSeconds(op) + (_s.Training ? 2 * ForwardSeconds(op) : 0)).ToList();
        _stage = _s.PipelineStages == 1 ? new int[ops.Count] : PipelinePartition.Balance(costs, _s.PipelineStages);
        var seen = new HashSet<(string, int)>();
        foreach (var op in ops)
            foreach (var v in op.ActivationInputs)
                if (_producer.TryGetValue(v, out var p) && _stage[p] != _stage[op.Index] && seen.Add((v, _stage[op.Index])))
                {
                    var prod = ops[p];
                    int k = prod.Outputs.ToList().IndexOf(v);
                    long bytes = prod.Outputs.Count == 1 ? prod.OutputBytes : prod.OutputDims[k].Aggregate(4L, (a, d) => a * d);
                    bool split = _tp[p].Mode is "column" or "sharded";
                    _boundaries.Add((v, _stage[p], _stage[op.Index], split ? bytes / _s.TensorParallel : bytes, split));
                }
    }

    public IReadOnlyList<int> StageOfOps => _stage;
    public ModelProfile Profile => _profile;

    /// <summary>Every rank's graph (for export).</summary>
    public Workload BuildAll(IReadOnlyDictionary<string, string>? metadata = null) => new()
    {
        Strategy = _s,
        Ranks = Enumerable.Range(0, _s.Ranks).Select(r => BuildRank(r, metadata)).ToList(),
        Multiplicity = Enumerable.Repeat(1, _s.Ranks).ToList(),
    };

    /// <summary>One rank per pipeline stage: its data- and tensor-parallel peers do the same work at the same time (for simulation).</summary>
    public Workload BuildRepresentatives(IReadOnlyDictionary<string, string>? metadata = null) => new()
    {
        Strategy = _s,
        Ranks = Enumerable.Range(0, _s.PipelineStages).Select(st => BuildRank(_s.RankOf(st, 0, 0), metadata)).ToList(),
        Multiplicity = Enumerable.Repeat(_s.DataParallel * _s.TensorParallel, _s.PipelineStages).ToList(),
    };

    private double ForwardSeconds(OpProfile op) =>
        _time.Seconds(new ComputeWork(op.Op, op.Flops, op.BytesRead + op.OutputBytes, StepPhase.Forward, op, 1));

    public RankWorkload BuildRank(int rank, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (rank < 0 || rank >= _s.Ranks) throw new WorkloadException($"rank {rank} is outside 0..{_s.Ranks - 1}");
        var e = new RankEmitter(this, rank);
        return e.Emit(metadata);
    }
}
