using Loom.Inference;
using Loom.IR;

namespace Loom.Scheduling;

/// <summary>
/// Predicted cost of one node: its class, FLOPs, bytes it reads and writes, and seconds on one thread (alone, and beside
/// kernels on the other threads: in a parallel stage or a split batch) and with all intra-op threads.
/// </summary>
public readonly record struct NodeCost(KernelClass Class, long Flops, long Bytes, double Seconds, double WideSeconds)
{
    /// <summary>Seconds on one thread while the other threads run kernels too (<see cref="MachineProfile.Beside"/>).</summary>
    public double BesideSeconds { get; init; } = Seconds;
}

/// <summary>What a node does, before any machine is involved: its class, its work (FLOPs, or bytes for memory-bound classes) and the bytes a matrix-product kernel packs.</summary>
public readonly record struct NodeWork(KernelClass Class, long Flops, long Bytes, double Work, double PackedBytes);

/// <summary>
/// Predicts node and edge times from FLOPs and bytes at concrete dims with the timings of a
/// <see cref="MachineProfile"/>: a node costs its class's (or its own operator's) fixed cost plus its work
/// and packed bytes at the measured rates; an edge between cores costs the transfer of its bytes.
/// </summary>
public sealed class CostModel(MachineProfile profile)
{
    public MachineProfile Profile { get; } = profile;

    public NodeCost Node(Node n, Graph g, Func<string, long?> dims)
    {
        var w = Measure(n, g, dims);
        var cls = Profile.Single[(int)w.Class];
        double classSingle = cls.Seconds(w.Work, w.PackedBytes);
        double single = Profile.Ops.TryGetValue(n.OpType, out var own) ? own.Seconds(w.Work, w.PackedBytes) : classSingle;
        // An operator timed alone scales with threads as its class does.
        double wide = single * Math.Min(1, Profile.Wide[(int)w.Class].Seconds(w.Work, w.PackedBytes) / classSingle);
        return new NodeCost(w.Class, w.Flops, w.Bytes, single, wide) { BesideSeconds = single * Profile.BesideFactor(w.Class) };
    }

    public static NodeWork Measure(Node n, Graph g, Func<string, long?> dims)
    {
        var cls = Classify(n, g);
        long flops = FlopCounter.Count(n, g, dims) ?? 0;
        long bytes = 0;
        foreach (var name in n.Inputs) bytes += BytesOf(name, g, dims);
        foreach (var name in n.Outputs) bytes += BytesOf(name, g, dims);
        // A Winograd layer computes far fewer multiply-adds than its FLOPs say (F(2×2): 16 per 2×2 outputs and channel pair instead
        // of 36) and moves transformed tiles besides: its work is what it computes, its packed bytes what it moves, at its own rates.
        if (cls == KernelClass.Conv && Workload.KernelPaths.Of(n, g, dims) is { Path: Workload.KernelPath.ConvWinograd } wino)
            return new NodeWork(wino.WinogradTile == 4 ? KernelClass.Winograd4 : KernelClass.Winograd, flops, bytes, 2 * wino.Macs, wino.Bytes);
        double work = cls == KernelClass.Memory ? bytes : flops;
        double packed = cls is KernelClass.Gemm or KernelClass.Conv ? PackedBytes(n, g, dims) : 0;
        return new NodeWork(cls, flops, bytes, work, packed);
    }

    /// <summary>Seconds for <paramref name="bytes"/> made on one core to be read on another.</summary>
    public double Transfer(long bytes) => Profile.Transfer.Seconds(bytes);

    /// <summary>The class by operator and weights alone; a <see cref="KernelClass.Conv"/> node may still be <see cref="KernelClass.Winograd"/> or <see cref="KernelClass.Winograd4"/> at its dims (<see cref="Measure"/>).</summary>
    public static KernelClass Classify(Node n, Graph g)
    {
        switch (n.OpType)
        {
            case var op when ConvOps.IsAnyConvolution(op):
                if (IsDepthwise(n, g)) return KernelClass.GroupedConv;
                return !ConvOps.IsTransposed(op) && IsPointwise(n, g) ? KernelClass.Gemm : KernelClass.Conv;
            case "MatMul" or "Gemm" or "MatMulInteger" or "QLinearMatMul":
                return KernelClass.Gemm;
            case "MaxPool" or "AveragePool" or "LpPool" or "LRN":
                return KernelClass.Pool;
            default:
                return KernelClass.Memory;
        }
    }

    /// <summary>
    /// Groups of fewer than 4 output channels (depthwise, typically): too few rows for a matrix product,
    /// so kernels compute them directly, at a rate of their own. Wider groups are one product per group.
    /// </summary>
    private static bool IsDepthwise(Node n, Graph g)
    {
        long group = n.GetInt("group", 1);
        if (group <= 1) return false;
        int w = ConvOps.WeightInput(n.OpType);
        if (w >= n.Inputs.Length || g.TypeOf(n.Inputs[w]) is not TensorType { Shape: { Rank: > 1 } s }) return true;
        long perGroup = ConvOps.IsTransposed(n.OpType) ? s[1].Value ?? 1 : (s[0].Value ?? group) / group;
        return perGroup < 4;
    }

    /// <summary>A 1×1 convolution with unit strides: a plain matrix product.</summary>
    private static bool IsPointwise(Node n, Graph g)
    {
        if (n.GetInts("strides") is { } strides && strides.Any(s => s != 1)) return false;
        if (n.GetInts("kernel_shape") is { } k) return k.All(d => d == 1);
        int w = ConvOps.WeightInput(n.OpType);
        return w < n.Inputs.Length && g.TypeOf(n.Inputs[w]) is TensorType { Shape: { Rank: > 2 } s }
            && s.Dims.Skip(2).All(d => d.Value == 1);
    }

    /// <summary>
    /// Bytes a matrix product Y[m×n] = A[m×k]·B[k×n] packs: A (the weights) and B (for a convolution, its
    /// im2col columns), 4·(m·k + k·n) for float32. 0 when a shape is unknown.
    /// </summary>
    private static double PackedBytes(Node n, Graph g, Func<string, long?> dims)
    {
        long[]? Dims(int i) => i < n.Inputs.Length && g.TypeOf(n.Inputs[i]) is TensorType { Shape: { } s }
            ? s.Dims.Select(d => d.Evaluate(dims) ?? -1).ToArray() is var r && r.All(x => x >= 0) ? r : null : null;
        if (n.OpType is "MatMul" or "Gemm" or "MatMulInteger" or "QLinearMatMul")
        {
            var a = Dims(0);
            var b = Dims(n.OpType == "QLinearMatMul" ? 3 : 1);
            if (a is null || b is null || a.Length == 0 || b.Length == 0) return 0;
            long sizeA = a.Aggregate(1L, (p, d) => p * d), sizeB = b.Aggregate(1L, (p, d) => p * d);
            return 4.0 * (sizeA + sizeB);
        }
        var w = Dims(ConvOps.WeightInput(n.OpType));
        var y = n.Outputs.Length > 0 && g.TypeOf(n.Outputs[0]) is TensorType { Shape: { } ys } ? ys.Dims.Select(d => d.Evaluate(dims) ?? -1).ToArray() : null;
        if (w is null || y is null || y.Any(d => d < 0) || w.Length < 2 || y.Length < 2) return 0;
        long group = n.GetInt("group", 1);
        long m = w[0] / Math.Max(group, 1), k = w.Skip(1).Aggregate(1L, (p, d) => p * d);
        long columns = y[0] * y.Skip(2).Aggregate(1L, (p, d) => p * d);
        return 4.0 * group * (m * k + k * columns);
    }

    /// <summary>Bytes of a tensor value at the given dims; 0 when unknown.</summary>
    public static long BytesOf(string name, Graph g, Func<string, long?> dims)
    {
        if (name.Length == 0 || g.TypeOf(name) is not TensorType { Shape: { } s } t) return 0;
        long size = Math.Max(1, t.ElementType.ElementSize());
        foreach (var d in s.Dims)
        {
            if (d.Evaluate(dims) is not { } v) return 0;
            size *= v;
        }
        return size;
    }
}
