using System.Diagnostics;
using Loom.IR;
using Attribute = Loom.IR.Attribute;

namespace Loom.Scheduling;

/// <summary>
/// Short measurements of Loom's own kernels on this machine, one small and one large case per
/// <see cref="KernelClass"/>, on one thread and on all intra-op threads, plus the cost of reading data
/// another core just wrote. Each case is a chain of identical nodes (so the per-run cost spreads out)
/// timed best-of-three: the machine may be busy, and the best time is the kernel's own.
/// </summary>
internal static class MachineProbes
{
    private const int Repeats = 3;

    public static MachineProfile Run(string machine, int threads)
    {
        var single = new LinearTiming[5];
        var wide = new LinearTiming[5];
        foreach (KernelClass cls in Enum.GetValues<KernelClass>())
        {
            var (small, big) = Cases(cls);
            single[(int)cls] = Fit(cls, small, big, 1);
            wide[(int)cls] = threads > 1 ? Fit(cls, small, big, threads) : single[(int)cls];
        }
        return new MachineProfile { Machine = machine, Threads = threads, Single = single, Wide = wide, Transfer = TransferProbe.Run() };
    }

    private readonly record struct Case(int Channels, int Size, int Kernel, int Group, int Chain);

    private static (Case Small, Case Big) Cases(KernelClass cls) => cls switch
    {
        KernelClass.Gemm => (new(32, 14, 1, 1, 6), new(128, 28, 1, 1, 2)),
        KernelClass.Conv => (new(16, 14, 3, 1, 6), new(64, 28, 3, 1, 2)),
        KernelClass.GroupedConv => (new(32, 14, 3, 32, 6), new(128, 56, 3, 128, 2)),
        KernelClass.Pool => (new(16, 14, 3, 0, 6), new(64, 56, 3, 0, 2)),
        _ => (new(16, 8, 0, 0, 8), new(64, 56, 0, 0, 2)),
    };

    private static LinearTiming Fit(KernelClass cls, Case small, Case big, int threads)
    {
        var (ws, ts) = Measure(cls, small, threads);
        var (wb, tb) = Measure(cls, big, threads);
        return LinearTiming.Fit(ws, ts, wb, tb);
    }

    /// <summary>Work and best seconds of one node of the case.</summary>
    private static (double Work, double Seconds) Measure(KernelClass cls, Case c, int threads)
    {
        var model = ChainModel(cls, c);
        var options = new LoomSessionOptions { IntraOpThreads = threads, ExecutionMode = ExecutionMode.Sequential, OptimizationLevel = 0, MachineProfile = MachineProfile.Fixed(threads) };
        using var session = LoomSession.Create(model, options);
        var x = Tensor.FromArray(Fill(c.Channels * c.Size * c.Size), 1, c.Channels, c.Size, c.Size);
        var inputs = new Dictionary<string, LoomValue> { ["x"] = x };
        session.Run(inputs).Dispose();
        double best = double.MaxValue;
        for (int r = 0; r < Repeats; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            session.Run(inputs).Dispose();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        var g = session.Model.Graph;
        var node = g.Nodes[0];
        var cost = new CostModel(MachineProfile.Fixed(1)).Node(node, g, _ => null);
        double work = cls == KernelClass.Memory ? cost.Bytes : cost.Flops;
        return (work, best / c.Chain);
    }

    private static Model ChainModel(KernelClass cls, Case c)
    {
        var nodes = new List<Node>();
        var inits = new Dictionary<string, Tensor>();
        string prev = "x";
        for (int i = 0; i < c.Chain; i++)
        {
            string y = i == c.Chain - 1 ? "y" : $"h{i}";
            nodes.Add(cls switch
            {
                KernelClass.Gemm or KernelClass.Conv or KernelClass.GroupedConv => ConvNode(c, prev, y, $"w{i}", inits),
                KernelClass.Pool => new Node("MaxPool", [prev], [y], [Attribute.Ints("kernel_shape", [3, 3]), Attribute.Ints("pads", [1, 1, 1, 1])]),
                _ => new Node("Relu", [prev], [y]),
            });
            prev = y;
        }
        var type = new TensorType(DataType.Float, Shape.Of(1, c.Channels, c.Size, c.Size));
        var g = new Graph("probe", [new ValueInfo("x", type)], [new ValueInfo("y", type)], nodes, inits);
        return new Model(g, new Dictionary<string, int> { [""] = 17 });
    }

    private static Node ConvNode(Case c, string x, string y, string w, Dictionary<string, Tensor> inits)
    {
        int perGroup = c.Channels / c.Group;
        inits[w] = Tensor.FromArray(Fill(c.Channels * perGroup * c.Kernel * c.Kernel), c.Channels, perGroup, c.Kernel, c.Kernel);
        long pad = c.Kernel / 2;
        return new Node("Conv", [x, w], [y], [Attribute.Ints("pads", [pad, pad, pad, pad]), Attribute.Int("group", c.Group)]);
    }

    private static float[] Fill(int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (i % 17 - 8) * 0.01f;
        return a;
    }
}
