using Loom.IR;

namespace Loom.Scheduling;

/// <summary>
/// Decides whether a graph computes each sample of its batch on its own, so a batch may be split into
/// sub-batches that run as independent copies of the graph (hyperclustering) with the same results.
/// Provable, or no: every value derived from the inputs must have the batch symbol as its first dim and
/// nowhere else, and every node reading one must be an operator known not to mix samples — none that
/// reduces, concatenates, gathers, slices, normalizes or reshapes across axis 0, and no subgraphs.
/// </summary>
public static class BatchSeparability
{
    /// <summary>The symbol every required input has as its first dim, or null.</summary>
    public static string? BatchSymbol(Graph g)
    {
        string? symbol = null;
        foreach (var i in g.RequiredInputs)
        {
            if (i.Type is not TensorType { Shape: { Rank: >= 1 } s } || s[0].SymbolName is not { } name) return null;
            if (symbol is not null && symbol != name) return null;
            symbol = name;
        }
        return symbol;
    }

    /// <summary>Null when the graph is separable along <paramref name="batch"/>; otherwise why not.</summary>
    public static string? Check(Graph g, string batch)
    {
        var constants = new Dictionary<string, Tensor>(g.Initializers);
        foreach (var n in g.Nodes)
            if (n.OpType == "Constant" && n.Outputs.Length == 1 && Inference.Rules.BasicRules.ConstantValue(n) is { } c) constants[n.Outputs[0]] = c;
        var derived = new HashSet<string>();
        foreach (var i in g.RequiredInputs)
        {
            if (BatchFirst(i.Type, batch) is { } why) return $"input '{i.Name}' {why}";
            derived.Add(i.Name);
        }
        foreach (var n in g.Nodes)
        {
            var reads = TopologicalSort.UsedNames(n).Where(derived.Contains).ToHashSet();
            if (reads.Count == 0) continue;
            if (n.Subgraphs.Any()) return $"node {n.DisplayName} has subgraphs";
            if (OperatorRule(n, g, constants, reads.Contains) is { } why) return $"node {n.DisplayName} {why}";
            foreach (var o in n.Outputs)
            {
                if (o.Length == 0) continue;
                if (BatchFirst(g.TypeOf(o), batch) is { } bad) return $"node {n.DisplayName}: output '{o}' {bad}";
                derived.Add(o);
            }
        }
        foreach (var o in g.Outputs)
            if (!derived.Contains(o.Name)) return $"output '{o.Name}' does not depend on the batch";
        return null;
    }

    private static string? BatchFirst(IrType? type, string batch)
    {
        if (type is not TensorType { Shape: { Rank: >= 1 } s }) return "has no known shape";
        if (s[0].SymbolName != batch) return $"has shape {s}, not '{batch}' first";
        for (int k = 1; k < s.Rank; k++)
            if (s[k].Symbols.Contains(batch)) return $"has shape {s}, with '{batch}' beyond the first dim";
        return null;
    }

    private static readonly HashSet<string> PerElement =
    [
        "Abs", "Acos", "Acosh", "Add", "And", "Asin", "Asinh", "Atan", "Atanh", "BitShift", "Cast", "CastLike", "Ceil", "Celu", "Clip",
        "Cos", "Cosh", "Div", "Dropout", "Elu", "Equal", "Erf", "Exp", "Floor", "Gelu", "Greater", "GreaterOrEqual", "HardSigmoid",
        "HardSwish", "Identity", "IsInf", "IsNaN", "LeakyRelu", "Less", "LessOrEqual", "Log", "Max", "Mean", "Min", "Mish", "Mod",
        "Mul", "Neg", "Not", "Or", "Pow", "PRelu", "Reciprocal", "Relu", "Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh",
        "Softplus", "Softsign", "Sqrt", "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Where", "Xor",
        "ElementwiseChain", // com.loom: the ops above, fused
        // Per sample by construction: they work within each image (all dims but the first two, or channels).
        // The convolutions too (ConvOps.IsConvolution, in OperatorRule).
        "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool",
        "LRN", "InstanceNormalization", "GroupNormalization", "Upsample", "DepthToSpace", "SpaceToDepth", "Expand", "Tile",
        // First dims checked on input and output: with the batch first on both and equal element counts, samples map to themselves.
        "Reshape",
    ];

    /// <summary>Null when node <paramref name="n"/> keeps samples apart; <paramref name="isDerived"/> tells which inputs carry the batch.</summary>
    private static string? OperatorRule(Node n, Graph g, Dictionary<string, Tensor> constants, Func<string, bool> isDerived)
    {
        int rank = g.TypeOf(n.Outputs.FirstOrDefault() ?? "") is TensorType { Shape: { } s } ? s.Rank : -1;
        bool AxisIsNotBatch(long defaultAxis) => rank > 0 && Normalize(n.GetInt("axis", defaultAxis), rank) != 0;
        switch (n.OpType)
        {
            case var op when PerElement.Contains(op) || ConvOps.IsConvolution(op):
                return null;
            case "BatchNormalization":
                return n.GetInt("training_mode", 0) == 0 && n.Outputs.Count(o => o.Length > 0) == 1 ? null : "normalizes over the batch (training mode)";
            case "Softmax" or "LogSoftmax" or "Hardmax":
                return AxisIsNotBatch(-1) ? null : "normalizes across the batch";
            case "Concat" or "Split" or "Gather" or "GatherElements" or "ArgMax" or "ArgMin" or "LayerNormalization" or "Flatten":
                if (n.OpType is "Gather" && !isDerived(n.Inputs[0])) return null; // a lookup table indexed per sample
                return AxisIsNotBatch(n.OpType is "Concat" or "Split" or "Gather" or "GatherElements" or "ArgMax" or "ArgMin" ? 0 : 1)
                    ? null : "works across the batch axis";
            case "Transpose":
                return n.GetInts("perm") is { } perm && perm.Length > 0 && perm[0] == 0 ? null : "moves the batch axis";
            case "Squeeze" or "Unsqueeze" or "ReduceSum" or "ReduceMean" or "ReduceMax" or "ReduceMin" or "ReduceProd" or "ReduceL1" or "ReduceL2"
                or "ReduceSumSquare" or "ReduceLogSum" or "ReduceLogSumExp":
                // Without explicit axes a Squeeze or Reduce may take the batch axis (at a sub-batch of 1, say).
                return Axes(n, g, constants) is { Length: > 0 } axes && !axes.Contains(0) ? null : "may work across the batch axis";
            case "Pad":
                return PadKeepsBatch(n, g, constants) ? null : "may pad or crop the batch axis";
            case "Resize":
                return n.GetString("coordinate_transformation_mode", "") != "tf_crop_and_resize" ? null : "may crop across the batch axis";
            case "Slice":
                return SliceKeepsBatch(n, g, constants) ? null : "may slice the batch axis";
            case "MatMul":
                return (!isDerived(n.Inputs[1]) || RankOf(g, n.Inputs[1]) >= 3) && (!isDerived(n.Inputs[0]) || RankOf(g, n.Inputs[0]) >= 2)
                    ? null : "contracts over the batch axis";
            case "Gemm":
                return n.GetInt("transA", 0) == 0 && isDerived(n.Inputs[0]) && !n.Inputs.Skip(1).Any(isDerived) ? null : "mixes rows across the batch";
            default:
                return "is not known to keep samples apart";
        }
    }

    /// <summary>Input <paramref name="i"/> of <paramref name="n"/> as integers, when it is a constant int32/int64 tensor.</summary>
    private static long[]? Ints(Node n, int i, Dictionary<string, Tensor> constants) =>
        !n.HasInput(i) || !constants.TryGetValue(n.Inputs[i], out var t) ? null : t.DataType switch
        {
            DataType.Int64 => t.ToArray<long>(),
            DataType.Int32 => t.ToArray<int>().Select(x => (long)x).ToArray(),
            _ => null,
        };

    private static long Normalize(long axis, int rank) => axis < 0 ? axis + rank : axis;

    private static int RankOf(Graph g, string name) => g.TypeOf(name) is TensorType { Shape: { } s } ? s.Rank : -1;

    /// <summary>The axes a Squeeze/Unsqueeze/Reduce node names (attribute, or a constant second input), normalized; null when unknown.</summary>
    private static long[]? Axes(Node n, Graph g, Dictionary<string, Tensor> constants)
    {
        int rank = RankOf(g, n.OpType == "Unsqueeze" ? n.Outputs[0] : n.Inputs[0]);
        var axes = n.GetInts("axes")?.ToArray() ?? Ints(n, 1, constants);
        return axes is null || rank < 0 ? null : axes.Select(a => Normalize(a, rank)).ToArray();
    }

    /// <summary>A Pad whose constant pads (attribute or input) are zero on axis 0.</summary>
    private static bool PadKeepsBatch(Node n, Graph g, Dictionary<string, Tensor> constants)
    {
        int rank = RankOf(g, n.Inputs[0]);
        var pads = n.GetInts("pads")?.ToArray() ?? Ints(n, 1, constants);
        if (pads is null || rank <= 0) return false;
        if (Ints(n, 3, constants) is { } given) // explicit axes: pads are listed per axis given
        {
            var axes = given.Select(x => Normalize(x, rank)).ToArray();
            int k = Array.IndexOf(axes, 0L);
            return k < 0 || (pads[k] == 0 && pads[k + axes.Length] == 0);
        }
        return !n.HasInput(3) && pads.Length == 2 * rank && pads[0] == 0 && pads[rank] == 0;
    }

    /// <summary>A Slice whose constant starts, ends and steps leave axis 0 whole (or that does not slice axis 0).</summary>
    private static bool SliceKeepsBatch(Node n, Graph g, Dictionary<string, Tensor> constants)
    {
        long[]? Const(int i) => Ints(n, i, constants);
        int rank = RankOf(g, n.Inputs[0]);
        var starts = Const(1);
        var axes = n.HasInput(3) ? Const(3) : starts is null ? null : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        var steps = n.HasInput(4) ? Const(4) : null;
        if (starts is null || axes is null || rank < 0) return false;
        for (int i = 0; i < axes.Length; i++)
            if (Normalize(axes[i], rank) == 0 && (starts[i] != 0 || (steps is not null && steps[i] != 1))) return false;
        return true;
    }
}
