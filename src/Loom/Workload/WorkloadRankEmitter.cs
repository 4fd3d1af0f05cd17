namespace Loom.Workload;

public sealed partial class WorkloadBuilder
{
    /// <summary>Emits one rank's nodes; holds the per-rank state (ids, value producers per micro-batch).</summary>
    private sealed partial class RankEmitter(WorkloadBuilder b, int rank)
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
                // The schedule's order as control dependencies: a block's first compute node waits for the
                // previous block's last, so tools that do not prefer low ids (ASTRA-sim) keep 1F1B too.
                _gate = _lastCompute;
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

        private long? _gate, _lastCompute;

        private long Compute(string name, string op, long flops, long bytes, long alloc, StepPhase phase, OpProfile? src, double fraction, int mb, IEnumerable<long> deps)
        {
            var work = new ComputeWork(op, flops, bytes, phase, src, fraction);
            IReadOnlyList<long> ctrl = _gate is { } g ? [g] : [];
            _gate = null;
            return (_lastCompute = Add(new WorkloadNode
            {
                CtrlDeps = ctrl,
                Id = 0, Name = name, Kind = WorkloadNodeKind.Compute, Phase = phase, Op = op, Flops = flops,
                BytesRead = src is null ? bytes / 2 : bytes - alloc, BytesWritten = src is null ? bytes - bytes / 2 : alloc, AllocBytes = alloc,
                Duration = b._time.Seconds(work), MicroBatch = mb, DataDeps = deps.Distinct().ToList(),
                InputShapes = src is null ? "" : Shapes(src.InputDims), OutputShapes = src is null ? "" : Shapes(src.OutputDims), Types = src?.Types ?? "",
            })).Value;
        }

        private static string Shapes(IReadOnlyList<long[]> dims) => "[" + string.Join(",", dims.Select(d => "[" + string.Join(",", d) + "]")) + "]";
    }
}
