using Loom.IR;

namespace Loom.Inference;

/// <summary>
/// Counts the floating-point operations of each node from its inferred shapes (a multiply-add is two
/// operations). Shapes may be symbolic: the count is a function of the symbol bindings given.
/// Data movement (Reshape, Transpose, Gather, …) counts as zero.
/// </summary>
public static class FlopCounter
{
    /// <summary>FLOPs of one node, or null when a shape it needs is unknown under <paramref name="dims"/>.</summary>
    public static long? Count(Node n, Graph g, Func<string, long?> dims)
    {
        long? Size(string name)
        {
            if (name.Length == 0 || g.TypeOf(name) is not TensorType { Shape: { } s }) return null;
            long p = 1;
            foreach (var d in s.Dims) { if (d.Evaluate(dims) is not { } v) return null; p *= v; }
            return p;
        }
        long[]? DimsOf(string name)
        {
            if (name.Length == 0 || g.TypeOf(name) is not TensorType { Shape: { } s }) return null;
            var r = new long[s.Rank];
            for (int i = 0; i < r.Length; i++) { if (s[i].Evaluate(dims) is not { } v) return null; r[i] = v; }
            return r;
        }
        string In(int i) => i < n.Inputs.Length ? n.Inputs[i] : "";
        string Out(int i) => i < n.Outputs.Length ? n.Outputs[i] : "";

        switch (n.OpType)
        {
            case "MatMul" or "MatMulInteger" or "QLinearMatMul":
            {
                var a = DimsOf(In(0)); var y = Size(Out(0));
                if (a is null || y is null || a.Length == 0) return null;
                return 2 * y * a[^1];
            }
            case "Gemm":
            {
                var a = DimsOf(In(0)); var y = Size(Out(0));
                if (a is null || y is null || a.Length != 2) return null;
                long k = n.GetInt("transA", 0) != 0 ? a[0] : a[1];
                return 2 * y * k + (n.HasInput(2) ? y : 0);
            }
            case var op when ConvOps.IsAnyConvolution(op) && !ConvOps.IsTransposed(op):
            {
                var w = DimsOf(In(ConvOps.WeightInput(op))); var y = Size(Out(0));
                // A 1×1 convolution that writes the mean over its positions (Passes.FuseConvMean) computes all of them.
                if (n.GetInt(Passes.FuseConvMean.Attribute, 0) != 0) y = Size(In(0)) is { } x && w is { Length: > 1 } && w[1] > 0 ? x / w[1] * w[0] : null;
                if (w is null || y is null) return null;
                long perOutput = w.Skip(1).Aggregate(1L, (p, d) => p * d); // Cin/group * kernel
                return 2 * y * perOutput + (n.HasInput(2) && ConvOps.IsForward(op) ? y : 0);
            }
            case var op when ConvOps.IsTransposed(op):
            {
                var x = Size(In(0)); var w = DimsOf(In(1));
                if (x is null || w is null) return null;
                long perInput = w.Skip(1).Aggregate(1L, (p, d) => p * d); // Cout/group * kernel
                if (!n.HasInput(2)) return 2 * x * perInput;
                // The bias adds one per output, as Conv's does; the output's size is needed only then.
                return Size(Out(0)) is { } y ? 2 * x * perInput + y : null;
            }
            case "MaxPool" or "AveragePool" or "LpPool":
            {
                var y = Size(Out(0)); var k = n.GetInts("kernel_shape");
                return y is null || k is null ? null : y * k.Value.Aggregate(1L, (p, d) => p * d);
            }
            case "GlobalAveragePool" or "GlobalMaxPool" or "GlobalLpPool" or "ReduceSum" or "ReduceMean" or "ReduceMax" or "ReduceMin"
                or "ReduceProd" or "ReduceL1" or "ReduceL2" or "ReduceSumSquare" or "ReduceLogSum" or "ReduceLogSumExp" or "ArgMax" or "ArgMin" or "CumSum":
                return Size(In(0));
            case "BatchNormalization" or "InstanceNormalization": return Size(In(0)) * 2;
            case "LayerNormalization" or "GroupNormalization" or "RMSNormalization" or "MeanVarianceNormalization" or "LRN": return Size(In(0)) * 5;
            case "Softmax" or "LogSoftmax": return Size(In(0)) * 5;
            case "Attention":
            {
                var q = DimsOf(In(0)); var k = DimsOf(In(1));
                if (q is null || k is null || q.Length < 3) return null;
                long qElems = q.Aggregate(1L, (p, d) => p * d);
                long kvSeq = k.Length == 4 ? k[2] : k[1];
                return 4 * qElems * kvSeq;
            }
            case "LSTM" or "GRU" or "RNN":
            {
                var x = DimsOf(In(0)); var w = DimsOf(In(1)); var r = DimsOf(In(2));
                if (x is null || w is null || r is null) return null;
                long steps = x[0] * x[1];
                return 2 * steps * (w[0] * w[1] * w[2] + r[0] * r[1] * r[2]);
            }
            case "Reshape" or "Transpose" or "Squeeze" or "Unsqueeze" or "Flatten" or "Concat" or "Split" or "Slice" or "Gather"
                or "GatherElements" or "GatherND" or "Shape" or "Size" or "Identity" or "Constant" or "ConstantOfShape" or "Expand"
                or "Tile" or "Pad" or "Cast" or "CastLike" or "Dropout" or "Scatter" or "ScatterND" or "ScatterElements"
                or "DepthToSpace" or "SpaceToDepth" or "NonZero" or "If" or "Loop" or "Scan" or "Range":
                return 0;
            default:
                // Elementwise and everything else: one operation per output element.
                return Size(Out(0)) ?? 0;
        }
    }

    /// <summary>Total FLOPs of a graph's nodes (subgraphs counted once), or null if some count is unknown.</summary>
    public static long? Total(Graph g, Func<string, long?> dims, out int unknownNodes)
    {
        long total = 0;
        unknownNodes = 0;
        foreach (var n in g.Nodes)
        {
            if (Count(n, g, dims) is { } c) total += c; else unknownNodes++;
            foreach (var sub in n.Subgraphs)
            {
                if (Total(sub, dims, out int u) is { } s) total += s;
                unknownNodes += u;
            }
        }
        return total;
    }
}
