namespace Loom.Workload;

/// <summary>The forward pass, the backward pass and the update, as one rank emits them.</summary>
public sealed partial class WorkloadBuilder
{
    private sealed partial class RankEmitter
    {
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
