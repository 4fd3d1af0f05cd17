using Loom.Inference;
using Loom.IR;

namespace Loom.Scheduling;

/// <summary>Predicted cost of one node: its class, its work (FLOPs or bytes), and seconds on one thread and with all intra-op threads.</summary>
public readonly record struct NodeCost(KernelClass Class, long Flops, long Bytes, double Seconds, double WideSeconds);

/// <summary>
/// Predicts node and edge times from FLOPs and bytes at concrete dims, with the lines of a
/// <see cref="MachineProfile"/>: a node's time is its class's fixed cost plus its work over the class's
/// rate; an edge between cores costs the transfer line of the bytes it carries.
/// </summary>
public sealed class CostModel(MachineProfile profile)
{
    public MachineProfile Profile { get; } = profile;

    public NodeCost Node(Node n, Graph g, Func<string, long?> dims)
    {
        var cls = Classify(n, g);
        long flops = FlopCounter.Count(n, g, dims) ?? 0;
        long bytes = 0;
        foreach (var name in n.Inputs) bytes += BytesOf(name, g, dims);
        foreach (var name in n.Outputs) bytes += BytesOf(name, g, dims);
        double work = cls == KernelClass.Memory ? bytes : flops;
        double single = Profile.Single[(int)cls].Seconds(work);
        double wide = Math.Min(single, Profile.Wide[(int)cls].Seconds(work));
        return new NodeCost(cls, flops, bytes, single, wide);
    }

    /// <summary>Seconds for <paramref name="bytes"/> made on one core to be read on another.</summary>
    public double Transfer(long bytes) => Profile.Transfer.Seconds(bytes);

    public static KernelClass Classify(Node n, Graph g)
    {
        switch (n.OpType)
        {
            case "Conv" or "FusedConv" or "ConvInteger" or "QLinearConv" or "ConvTranspose":
                if (n.GetInt("group", 1) > 1) return KernelClass.GroupedConv;
                return n.OpType != "ConvTranspose" && IsPointwise(n, g) ? KernelClass.Gemm : KernelClass.Conv;
            case "MatMul" or "Gemm" or "MatMulInteger" or "QLinearMatMul":
                return KernelClass.Gemm;
            case "MaxPool" or "AveragePool" or "LpPool" or "LRN":
                return KernelClass.Pool;
            default:
                return KernelClass.Memory;
        }
    }

    /// <summary>A 1×1 convolution with unit strides: a plain matrix product.</summary>
    private static bool IsPointwise(Node n, Graph g)
    {
        if (n.GetInts("strides") is { } strides && strides.Any(s => s != 1)) return false;
        if (n.GetInts("kernel_shape") is { } k) return k.All(d => d == 1);
        int w = n.OpType == "QLinearConv" ? 3 : 1;
        return w < n.Inputs.Length && g.TypeOf(n.Inputs[w]) is TensorType { Shape: { Rank: > 2 } s }
            && s.Dims.Skip(2).All(d => d.Value == 1);
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
