using Loom.IR;

namespace Loom.Workload;

/// <summary>How tensor parallelism splits one operator, and the collectives the split implies.</summary>
public sealed record TpOpPlan
{
    /// <summary>Replicated, Column (output channels split), Row (input channels split, partial sums), or Sharded (channel-wise op on split data).</summary>
    public string Mode { get; init; } = "replicated";
    /// <summary>Fraction of the op's FLOPs, activation bytes and parameters one rank holds.</summary>
    public double Fraction { get; init; } = 1;
    /// <summary>Split activations gathered (full bytes) before the op runs.</summary>
    public IReadOnlyList<(string Value, long Bytes)> Gathers { get; init; } = [];
    /// <summary>Bytes of the partial output all-reduced after a row-split op (forward).</summary>
    public long ForwardAllReduceBytes { get; init; }
    /// <summary>Bytes of the partial input gradient all-reduced after a column-split op's backward.</summary>
    public long BackwardAllReduceBytes { get; init; }
    /// <summary>Replicated inputs each rank slices locally; their gradients come back split and are all-gathered in backward.</summary>
    public long BackwardGatherBytes { get; init; }
}

/// <summary>
/// Megatron-style tensor parallelism over Loom's operators, one pass in topological order tracking which
/// activations are split along which axis. A weight product on replicated data splits its output
/// channels (column: no forward communication, its input gradient is a partial sum to all-reduce); one on
/// data split along its contraction axis splits its input channels (row: its output is a partial sum to
/// all-reduce). Channel-wise operators (element-wise, normalization, pooling) work on their shard.
/// Anything else first all-gathers split inputs. Column/row alternation is what makes two consecutive
/// products (an MLP, a bottleneck block) cost one all-reduce each way.
/// </summary>
public static class TensorParallelPlan
{
    public static IReadOnlyList<TpOpPlan> Build(ModelProfile profile, int tp)
    {
        var plans = new TpOpPlan[profile.Ops.Count];
        if (tp <= 1) { Array.Fill(plans, new TpOpPlan()); return plans; }
        var splitAxis = new Dictionary<string, int>(); // value → axis it is split along (absent: replicated)
        var bytes = new Dictionary<string, long>();
        var graphInputs = new HashSet<string>(profile.GraphInputs);
        foreach (var op in profile.Ops)
        {
            for (int i = 0; i < op.Outputs.Count; i++) bytes[op.Outputs[i]] = BytesOf(op, i);
            var splitIns = op.ActivationInputs.Where(splitAxis.ContainsKey).Distinct().ToList();
            int? axis = splitIns.Count > 0 && splitIns.All(v => splitAxis[v] == splitAxis[splitIns[0]]) ? splitAxis[splitIns[0]] : null;
            TpOpPlan plan;
            if (op.IsWeightProduct && op.Node.GetInt("group", 1) == 1)
            {
                bool conv = ConvOps.IsConvolution(op.Op); // channels on axis 1; a matrix product's on the last axes
                int contraction = conv ? 1 : InputRank(op) - 1;
                int outAxis = conv ? 1 : OutputRank(op) - 1;
                long inChannels = op.InputDims.Count > 0 && op.InputDims[0].Length > contraction ? op.InputDims[0][contraction] : 0;
                long outChannels = op.OutputDims.Count > 0 && op.OutputDims[0].Length > outAxis ? op.OutputDims[0][outAxis] : 0;
                if (splitIns.Count == 1 && axis == contraction && inChannels % tp == 0)
                {
                    plan = new TpOpPlan { Mode = "row", Fraction = 1.0 / tp, ForwardAllReduceBytes = op.OutputBytes };
                    // The all-reduce leaves the output replicated.
                }
                else if (outChannels > 0 && outChannels % tp == 0)
                {
                    var gathers = splitIns.Select(v => (v, bytes[v])).ToList();
                    bool needsInputGrad = op.ActivationInputs.Any(v => !graphInputs.Contains(v));
                    plan = new TpOpPlan { Mode = "column", Fraction = 1.0 / tp, Gathers = gathers, BackwardAllReduceBytes = needsInputGrad ? op.ActivationInputBytes : 0 };
                    foreach (var o in op.Outputs.Take(1)) splitAxis[o] = outAxis;
                }
                else plan = new TpOpPlan { Gathers = splitIns.Select(v => (v, bytes[v])).ToList() };
            }
            else if (axis is { } ax && splitIns.Count == op.ActivationInputs.Distinct().Count() && FollowSplit(op, ax, tp) is { } moved)
            {
                // Attention-shaped data movement and per-head products keep the split: heads stay on their rank.
                plan = new TpOpPlan { Mode = "sharded", Fraction = 1.0 / tp };
                foreach (var o in op.Outputs.Take(1)) splitAxis[o] = moved;
            }
            else if (axis is { } a && IsChannelWise(op, a))
            {
                // Replicated activation inputs are sliced locally; their gradient needs gathering in backward.
                long replicatedBytes = op.ActivationInputs.Where(v => !splitAxis.ContainsKey(v) && !graphInputs.Contains(v)).Distinct().Sum(v => bytes.GetValueOrDefault(v));
                plan = new TpOpPlan { Mode = "sharded", Fraction = 1.0 / tp, BackwardGatherBytes = replicatedBytes };
                foreach (var o in op.Outputs) splitAxis[o] = a;
            }
            else plan = new TpOpPlan { Gathers = splitIns.Select(v => (v, bytes[v])).ToList() };
            plans[op.Index] = plan;
        }
        return plans;
    }

    /// <summary>
    /// Where a split along <paramref name="axis"/> goes through a Reshape (to the output axis whose leading
    /// dims hold as many elements as the input's before the split axis and that still divides by tp — the
    /// [B,S,H·D] ↔ [B,S,H,D] of attention heads), a Transpose (the permuted axis), or a MatMul of two
    /// activations split along the same batch axis (one product per head); null when the split does not survive.
    /// </summary>
    private static int? FollowSplit(OpProfile op, int axis, int tp)
    {
        if (op.OutputDims.Count == 0 || op.InputDims.Count == 0) return null;
        var outDims = op.OutputDims[0];
        switch (op.Op)
        {
            case "Reshape":
            {
                var inDims = op.InputDims[0];
                long before = inDims.Take(axis).Aggregate(1L, (x, d) => x * d);
                long prefix = 1;
                for (int b = 0; b < outDims.Length; b++)
                {
                    if (prefix == before && outDims[b] > 1 && outDims[b] % tp == 0) return b;
                    prefix *= outDims[b];
                    if (prefix > before) break;
                }
                return null;
            }
            case "Transpose":
            {
                var perm = op.Node.GetInts("perm")?.Select(x => (int)x).ToList() ?? Enumerable.Range(0, outDims.Length).Reverse().ToList();
                int moved = perm.IndexOf(axis);
                return moved >= 0 ? moved : null;
            }
            case "MatMul" when op.Params.Count == 0:
                return op.InputDims.All(d => d.Length == outDims.Length) && axis < outDims.Length - 2 ? axis : null;
            default:
                return null;
        }
    }

    /// <summary>Operators that treat each channel on its own, so a shard of channels gives a shard of the output.</summary>
    private static bool IsChannelWise(OpProfile op, int axis)
    {
        if (op.Outputs.Count == 0) return false;
        switch (op.Op)
        {
            case "Relu" or "LeakyRelu" or "Sigmoid" or "Tanh" or "Clip" or "Gelu" or "Erf" or "HardSigmoid" or "HardSwish" or "Elu" or "Selu"
                or "Softplus" or "Mish" or "Sqrt" or "Exp" or "Log" or "Neg" or "Abs" or "Reciprocal" or "Identity" or "Dropout" or "Cast"
                or "Add" or "Sub" or "Mul" or "Div" or "Sum" or "Max" or "Min" or "Pow" or "PRelu" or "Where":
                return op.OutputDims[0].Length > axis;
            case "BatchNormalization" or "InstanceNormalization" or "MaxPool" or "AveragePool" or "GlobalAveragePool" or "GlobalMaxPool" or "LpPool":
                return axis == 1;
            case "Softmax" or "LogSoftmax" or "LayerNormalization":
                long reduced = op.Node.GetInt("axis", op.Op == "LayerNormalization" ? -1 : -1);
                int rank = op.OutputDims[0].Length;
                return (reduced < 0 ? reduced + rank : reduced) != axis && op.Op != "LayerNormalization";
            default:
                return false;
        }
    }

    private static long BytesOf(OpProfile op, int output) =>
        op.Outputs.Count == 1 ? op.OutputBytes
        : op.OutputDims.Count > output ? op.OutputDims[output].Aggregate(4L, (a, d) => a * d) : 0;

    private static int InputRank(OpProfile op) => op.InputDims.Count > 0 ? op.InputDims[0].Length : 2;
    private static int OutputRank(OpProfile op) => op.OutputDims.Count > 0 ? op.OutputDims[0].Length : 2;
}
