namespace Loom.Workload;

/// <summary>
/// Builds each rank's workload graph for one step from a <see cref="ModelProfile"/> at the micro-batch size:
/// forward (and for training backward) nodes per micro-batch in 1F1B pipeline order, the collectives
/// tensor parallelism implies, point-to-point sends between pipeline stages, bucketed data-parallel
/// gradient all-reduces and the optimizer update. Node ids follow the order a device should prefer.
/// </summary>
public sealed class WorkloadBuilder
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

    /// <summary>Emits one rank's nodes; holds the per-rank state (ids, value producers per micro-batch).</summary>
    private sealed class RankEmitter(WorkloadBuilder b, int rank)
    {
        private readonly List<WorkloadNode> _nodes = new();
        private readonly (int Stage, int Dp, int Tp) _at = b._s.Coordinates(rank);
        private long _collectiveTag;
        private readonly Dictionary<(int Mb, int Op), long> _fwdNode = new();
        private readonly Dictionary<(int Mb, string Value), long> _valueNode = new();
        private readonly Dictionary<(int Mb, string Value), List<long>> _grads = new();
        private readonly Dictionary<string, long> _paramGradNode = new();
        private readonly List<(ParamRef Param, double Fraction)> _paramOrder = new();

        private ParallelStrategy S => b._s;
        private List<int> StageOps => Enumerable.Range(0, b._profile.Ops.Count).Where(i => b._stage[i] == _at.Stage).ToList();

        public RankWorkload Emit(IReadOnlyDictionary<string, string>? metadata)
        {
            var ops = StageOps;
            foreach (var (fwd, mb) in Schedule())
            {
                if (fwd) Forward(mb, ops); else Backward(mb, ops);
            }
            long paramBytes = 0;
            foreach (var i in ops) paramBytes += (long)(b._profile.Ops[i].ParamBytes * b._tp[i].Fraction);
            long staticBytes = paramBytes;
            if (S.Training)
            {
                Update();
                long state = paramBytes * BackwardRules.Optimizer(S.Optimizer).States;
                staticBytes += paramBytes + (S.ShardedOptimizer ? state / S.DataParallel : state);
            }
            var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
            {
                ["strategy"] = S.Label, ["rank"] = rank.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["training"] = S.Training ? "true" : "false", ["global_batch"] = S.GlobalBatch.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            return new RankWorkload { Rank = rank, Nodes = _nodes, StaticBytes = staticBytes, Metadata = meta };
        }

        /// <summary>1F1B: a stage warms up with as many forwards as stages after it, then alternates, then drains.</summary>
        private IEnumerable<(bool Forward, int Mb)> Schedule()
        {
            int m = S.MicroBatches;
            if (!S.Training) { for (int i = 0; i < m; i++) yield return (true, i); yield break; }
            int warm = Math.Min(S.PipelineStages - _at.Stage - 1, m);
            int f = 0, bw = 0;
            for (; f < warm; f++) yield return (true, f);
            while (f < m) { yield return (true, f++); yield return (false, bw++); }
            while (bw < m) yield return (false, bw++);
        }

        private long Add(WorkloadNode n)
        {
            _nodes.Add(n with { Id = _nodes.Count });
            return _nodes.Count - 1;
        }

        private List<int> Group(bool dataParallel) => dataParallel
            ? Enumerable.Range(0, S.DataParallel).Select(d => S.RankOf(_at.Stage, d, _at.Tp)).ToList()
            : Enumerable.Range(0, S.TensorParallel).Select(t => S.RankOf(_at.Stage, _at.Dp, t)).ToList();

        private long Collective(string name, CollectiveKind kind, long bytes, bool dataParallel, IEnumerable<long> deps, int mb, StepPhase phase, long alloc = 0)
        {
            var group = Group(dataParallel);
            string pg = dataParallel ? $"dp.s{_at.Stage}.t{_at.Tp}" : $"tp.s{_at.Stage}.d{_at.Dp}";
            return Add(new WorkloadNode
            {
                Id = 0, Name = name, Kind = WorkloadNodeKind.Collective, Phase = phase, Op = kind.ToString(), Collective = kind, CommBytes = bytes,
                Ranks = group, ProcessGroup = pg, Tag = _collectiveTag++, MicroBatch = mb, DataDeps = deps.Distinct().ToList(), AllocBytes = alloc,
            });
        }

        private long P2P(bool send, string value, int boundary, int peerStage, long bytes, bool grad, int mb, IEnumerable<long> deps)
        {
            int peer = S.RankOf(peerStage, _at.Dp, _at.Tp);
            long tag = (1L << 30) + ((long)boundary * S.MicroBatches + mb) * 2 + (grad ? 1 : 0);
            return Add(new WorkloadNode
            {
                Id = 0, Name = $"{(send ? "send" : "recv")}.{(grad ? "grad." : "")}{value}.mb{mb}", Kind = send ? WorkloadNodeKind.Send : WorkloadNodeKind.Recv,
                Phase = grad ? StepPhase.Backward : StepPhase.Forward, Op = send ? "Send" : "Recv", CommBytes = bytes,
                Ranks = send ? [rank, peer] : [peer, rank], ProcessGroup = "pp", Tag = tag, MicroBatch = mb,
                DataDeps = deps.Distinct().ToList(), AllocBytes = send ? 0 : bytes,
            });
        }

        private long Compute(string name, string op, long flops, long bytes, long alloc, StepPhase phase, OpProfile? src, double fraction, int mb, IEnumerable<long> deps)
        {
            var work = new ComputeWork(op, flops, bytes, phase, src, fraction);
            return Add(new WorkloadNode
            {
                Id = 0, Name = name, Kind = WorkloadNodeKind.Compute, Phase = phase, Op = op, Flops = flops,
                BytesRead = src is null ? bytes / 2 : bytes - alloc, BytesWritten = src is null ? bytes - bytes / 2 : alloc, AllocBytes = alloc,
                Duration = b._time.Seconds(work), MicroBatch = mb, DataDeps = deps.Distinct().ToList(),
                InputShapes = src is null ? "" : Shapes(src.InputDims), OutputShapes = src is null ? "" : Shapes(src.OutputDims), Types = src?.Types ?? "",
            });
        }

        private static string Shapes(IReadOnlyList<long[]> dims) => "[" + string.Join(",", dims.Select(d => "[" + string.Join(",", d) + "]")) + "]";

        private void Forward(int mb, List<int> ops)
        {
            // Inputs arriving from earlier stages, and the model input itself on the stage that reads it.
            for (int k = 0; k < b._boundaries.Count; k++)
            {
                var bd = b._boundaries[k];
                if (bd.To == _at.Stage) _valueNode[(mb, bd.Value)] = P2P(false, bd.Value, k, bd.From, bd.Bytes, false, mb, []);
            }
            foreach (var input in b._profile.GraphInputs)
                if (ops.Any(i => b._profile.Ops[i].ActivationInputs.Contains(input)))
                {
                    long bytes = ops.Select(i => b._profile.Ops[i]).Where(o => o.ActivationInputs.Count > 0 && o.ActivationInputs[0] == input)
                        .Select(o => o.ActivationInputBytes / Math.Max(1, o.ActivationInputs.Count)).DefaultIfEmpty(0).First();
                    _valueNode[(mb, input)] = Add(new WorkloadNode
                    {
                        Id = 0, Name = $"load.{input}.mb{mb}", Kind = WorkloadNodeKind.MemLoad, Phase = StepPhase.Forward, Op = "MemLoad",
                        BytesRead = bytes, BytesWritten = bytes, AllocBytes = bytes, MicroBatch = mb,
                        Duration = b._time.Seconds(new ComputeWork("MemLoad", 0, 2 * bytes, StepPhase.Forward, null, 1)),
                    });
                }
            foreach (var i in ops)
            {
                var op = b._profile.Ops[i];
                var plan = b._tp[i];
                var deps = new List<long>();
                foreach (var v in op.ActivationInputs)
                {
                    var g = plan.Gathers.FirstOrDefault(x => x.Value == v);
                    if (g.Value is not null && !_valueNode.ContainsKey((mb, "gathered:" + v)))
                        _valueNode[(mb, "gathered:" + v)] = Collective($"allgather.{v}.mb{mb}", CollectiveKind.AllGather, g.Bytes, false,
                            Dep(mb, v), mb, StepPhase.Forward, g.Bytes);
                    deps.AddRange(Dep(mb, g.Value is not null ? "gathered:" + v : v));
                }
                double f = plan.Fraction;
                long alloc = (long)(op.OutputBytes * f);
                long id = Compute($"{op.Name}.mb{mb}", op.Op, (long)(op.Flops * f), (long)((op.BytesRead + op.OutputBytes) * f), alloc,
                    StepPhase.Forward, op, f, mb, deps);
                _fwdNode[(mb, i)] = id;
                if (plan.ForwardAllReduceBytes > 0)
                    id = Collective($"allreduce.{op.Name}.mb{mb}", CollectiveKind.AllReduce, plan.ForwardAllReduceBytes, false, [id], mb, StepPhase.Forward);
                foreach (var o in op.Outputs) _valueNode[(mb, o)] = id;
            }
            for (int k = 0; k < b._boundaries.Count; k++)
            {
                var bd = b._boundaries[k];
                if (bd.From == _at.Stage) P2P(true, bd.Value, k, bd.To, bd.Bytes, false, mb, Dep(mb, bd.Value));
            }
            // The step's results leave the device (predictions to the host; a loss for training).
            foreach (var output in b._profile.GraphOutputs)
            {
                if (!b._producer.TryGetValue(output, out var p) || b._stage[p] != _at.Stage) continue;
                var prod = b._profile.Ops[p];
                long bytes = prod.Outputs.Count == 1 ? prod.OutputBytes : prod.OutputDims[prod.Outputs.ToList().IndexOf(output)].Aggregate(4L, (a, d) => a * d);
                Add(new WorkloadNode
                {
                    Id = 0, Name = $"store.{output}.mb{mb}", Kind = WorkloadNodeKind.MemStore, Phase = StepPhase.Forward, Op = "MemStore",
                    BytesRead = bytes, BytesWritten = bytes, MicroBatch = mb, DataDeps = Dep(mb, output).ToList(),
                    Duration = b._time.Seconds(new ComputeWork("MemStore", 0, 2 * bytes, StepPhase.Forward, null, 1)),
                });
            }
        }

        private IEnumerable<long> Dep(int mb, string value) => _valueNode.TryGetValue((mb, value), out var id) ? [id] : [];

        private List<long> GradsOf(int mb, string value) =>
            _grads.TryGetValue((mb, value), out var l) ? l : _grads[(mb, value)] = new List<long>();

        private void Backward(int mb, List<int> ops)
        {
            for (int k = 0; k < b._boundaries.Count; k++)
            {
                var bd = b._boundaries[k];
                if (bd.From == _at.Stage && b._gradValues.Contains(bd.Value))
                    GradsOf(mb, bd.Value).Add(P2P(false, bd.Value, k, bd.To, bd.Bytes, true, mb, []));
            }
            for (int j = ops.Count - 1; j >= 0; j--)
            {
                int i = ops[j];
                if (!b._needsGrad[i]) continue;
                var op = b._profile.Ops[i];
                var plan = b._tp[i];
                double f = plan.Fraction;
                var deps = op.Outputs.SelectMany(o => GradsOf(mb, o)).Append(_fwdNode[(mb, i)]).ToList();
                bool inputGrad = op.ActivationInputs.Any(b._gradValues.Contains);
                long last = -1;
                if (op.IsWeightProduct)
                {
                    if (inputGrad)
                        last = Compute($"{op.Name}.dgrad.mb{mb}", op.Op + ".dgrad", (long)(BackwardRules.InputGradFlops(op) * f),
                            (long)(BackwardRules.InputGradBytes(op) * f), (long)(op.ActivationInputBytes * f), StepPhase.Backward, op, f, mb, deps);
                    long w = Compute($"{op.Name}.wgrad.mb{mb}", op.Op + ".wgrad", (long)(BackwardRules.WeightGradFlops(op) * f),
                        (long)(BackwardRules.WeightGradBytes(op) * f), 0, StepPhase.Backward, op, f, mb, deps);
                    foreach (var p in op.Params) _paramGradNode[p.Name] = w;
                }
                else
                {
                    last = Compute($"{op.Name}.grad.mb{mb}", op.Op + ".grad", (long)(BackwardRules.InputGradFlops(op) * f),
                        (long)(BackwardRules.InputGradBytes(op) * f), inputGrad ? (long)(op.ActivationInputBytes * f) : 0, StepPhase.Backward, op, f, mb, deps);
                    foreach (var p in op.Params) _paramGradNode[p.Name] = last;
                }
                if (mb == 0) foreach (var p in op.Params) _paramOrder.Add((p, f));
                if (!inputGrad) continue;
                if (plan.BackwardAllReduceBytes > 0)
                    last = Collective($"allreduce.grad.{op.Name}.mb{mb}", CollectiveKind.AllReduce, plan.BackwardAllReduceBytes, false, [last], mb, StepPhase.Backward);
                if (plan.BackwardGatherBytes > 0)
                    last = Collective($"allgather.grad.{op.Name}.mb{mb}", CollectiveKind.AllGather, plan.BackwardGatherBytes, false, [last], mb, StepPhase.Backward);
                foreach (var v in op.ActivationInputs.Distinct()) if (b._gradValues.Contains(v)) GradsOf(mb, v).Add(last);
            }
            for (int k = 0; k < b._boundaries.Count; k++)
            {
                var bd = b._boundaries[k];
                if (bd.To == _at.Stage && b._gradValues.Contains(bd.Value))
                    P2P(true, bd.Value, k, bd.From, bd.Bytes, true, mb, GradsOf(mb, bd.Value));
            }
        }

        /// <summary>
        /// Gradients of the last micro-batch complete in backward order; buckets of them are all-reduced across
        /// data-parallel peers as they fill (overlapping the rest of backward), each followed by its update.
        /// </summary>
        private void Update()
        {
            var (perElem, states) = BackwardRules.Optimizer(S.Optimizer);
            var bucket = new List<(ParamRef P, long Bytes)>();
            int index = 0;
            void Flush()
            {
                if (bucket.Count == 0) return;
                long bytes = bucket.Sum(x => x.Bytes);
                var deps = bucket.Select(x => _paramGradNode[x.P.Name]).ToList();
                int last = S.MicroBatches - 1;
                bool sharded = S.ShardedOptimizer && S.DataParallel > 1;
                if (sharded)
                    deps = [Collective($"reducescatter.bucket{index}", CollectiveKind.ReduceScatter, bytes, true, deps, last, StepPhase.Communication)];
                else if (S.DataParallel > 1)
                    deps = [Collective($"allreduce.bucket{index}", CollectiveKind.AllReduce, bytes, true, deps, last, StepPhase.Communication)];
                long updated = sharded ? bytes / S.DataParallel : bytes;
                // Reads parameters, gradients and states; writes parameters and states.
                long opt = Compute($"optimizer.bucket{index}", S.Optimizer.ToString(), perElem * (updated / 4), updated * (3 + 2 * states), 0,
                    StepPhase.Optimizer, null, 1, last, deps);
                if (sharded)
                    Collective($"allgather.bucket{index}", CollectiveKind.AllGather, bytes, true, [opt], last, StepPhase.Communication);
                index++;
                bucket.Clear();
            }
            foreach (var (p, f) in _paramOrder)
            {
                bucket.Add((p, (long)(p.Bytes * f)));
                if (bucket.Sum(x => x.Bytes) >= S.BucketBytes) Flush();
            }
            Flush();
        }
    }
}
