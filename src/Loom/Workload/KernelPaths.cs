using Loom.IR;
using Loom.Kernels.Common;
using Loom.Scheduling;

namespace Loom.Workload;

/// <summary>
/// The kernel a node runs on this machine: convolutions take one of several paths by shape (the same
/// predicates the Conv kernel uses to choose), each with its own speed and its own waste.
/// </summary>
public enum KernelPath
{
    /// <summary>Convolution with a spatial kernel as a GEMM reading the image through tap offsets (<c>ConvWideGemm</c>).</summary>
    ConvImplicitGemm,
    /// <summary>1×1 stride-1 convolution: a plain GEMM on the image.</summary>
    ConvPointwise,
    /// <summary>Few output positions (≤ 256, late stages): the transposed product (<c>ConvFewPositions</c>).</summary>
    ConvFewPositions,
    /// <summary>Grouped or strided-1×1 convolutions: GEMM over packed im2col columns (<c>ConvFloat</c>).</summary>
    ConvIm2ColGemm,
    /// <summary>One channel per group.</summary>
    ConvDepthwise,
    /// <summary>
    /// 3×3 stride-1 layers on large enough planes: Winograd F(2×2, 3×3), 16 products per 2×2 outputs instead of 36 (<c>ConvWinograd</c>),
    /// or on larger ones F(4×4, 3×3), 36 per 4×4 outputs instead of 144 (<c>ConvWinograd4</c>).
    /// </summary>
    ConvWinograd,
    /// <summary>Groups too narrow for GEMM tiles: direct loops.</summary>
    ConvDirect,
    /// <summary>MatMul, Gemm.</summary>
    MatMul,
    /// <summary>Windowed max/average pooling: work is window reads.</summary>
    Pool,
    /// <summary>Local response normalization: a window across channels per element.</summary>
    Lrn,
    /// <summary>Concat, Split, Slice, Pad: copies.</summary>
    Copy,
    /// <summary>Everything else: element-wise, reductions, normalizations, shape-only nodes.</summary>
    Elementwise,
}

/// <summary>
/// A node's work as its kernel path does it: multiply-adds as the path computes them (rounded up to the
/// micro-kernel's register tiles and, on the implicit-GEMM path, including the dropped columns past each
/// output row) and bytes it moves (activations read and written, constants read, the copies the path
/// makes of its input).
/// </summary>
public readonly record struct KernelWork(KernelPath Path, double Macs, double Bytes)
{
    /// <summary>The operator: outside the convolution paths kernels differ per operator (an average pool is not a max pool).</summary>
    public string Op { get; init; } = "";

    /// <summary>On <see cref="KernelPath.ConvWinograd"/>, the output tile: 2 for F(2×2, 3×3), 4 for F(4×4, 3×3); 0 elsewhere.</summary>
    public int WinogradTile { get; init; }
}

public static class KernelPaths
{
    /// <summary>The work of <paramref name="n"/> at <paramref name="dims"/> with the kernel set this machine uses.</summary>
    public static KernelWork Of(Node n, Graph g, Func<string, long?> dims) => Of(n, g, dims, GemmKernelSet.Current.MR, GemmKernelSet.Current.NR);

    internal static KernelWork Of(Node n, Graph g, Func<string, long?> dims, int mr, int nr) =>
        Classify(n, g, dims, mr, nr) is var w && w.Op.Length == 0 ? w with { Op = n.OpType } : w;

    private static KernelWork Classify(Node n, Graph g, Func<string, long?> dims, int mr, int nr)
    {
        double bytes = 0;
        foreach (var name in n.Inputs) bytes += CostModel.BytesOf(name, g, dims);
        foreach (var name in n.Outputs) bytes += CostModel.BytesOf(name, g, dims);
        long flops = Inference.FlopCounter.Count(n, g, dims) ?? 0;
        switch (n.OpType)
        {
            case var op when ConvOps.IsForward(op) && Shape(n, 0, g, dims) is { } x && Shape(n, 1, g, dims) is { } w && Floating(n, g):
                return Conv(n, x, w, bytes, mr, nr) ?? new KernelWork(KernelPath.ConvDirect, flops / 2.0, bytes);
            case var op when op is "MatMul" or "Gemm" or "MatMulInteger" or "QLinearMatMul" || ConvOps.IsAnyConvolution(op):
                return new KernelWork(KernelPath.MatMul, flops / 2.0, bytes);
            case "MaxPool" or "AveragePool" or "LpPool":
                return Pool(n, g, dims, flops, bytes);
            case "LRN":
                return new KernelWork(KernelPath.Lrn, flops, bytes);
            case "Concat":
                // With every input computed into its output the kernel only checks them: a cost of its own, not a copy's.
                return bytes - 2 * InPlaceBytes(n, g) is var copied && copied <= 0
                    ? new KernelWork(KernelPath.Copy, 0, 0) { Op = "Concat (in place)" }
                    : new KernelWork(KernelPath.Copy, 0, copied);
            case "Split" or "Slice" or "Pad":
                return new KernelWork(KernelPath.Copy, 0, bytes);
            default:
                return new KernelWork(KernelPath.Elementwise, 0, bytes);
        }
    }

    /// <summary>
    /// Bytes of the Concat's inputs that the runtime computes straight into its output (<c>ConcatPlacement</c>, same rule):
    /// the Concat neither reads nor writes them.
    /// </summary>
    private static double InPlaceBytes(Node n, Graph g)
    {
        var outputs = g.Outputs.Select(o => o.Name).ToHashSet();
        var slices = Runtime.Memory.ConcatPlacement.Slices(n, g.TypeOf, outputs, input =>
            g.Nodes.FirstOrDefault(p => p.Outputs.Contains(input)) is { OpType: not "Constant" } p
            && (p.OpType != "Concat" || input == n.Inputs[0])
            && g.Nodes.Count(c => c.OpType == "Concat" && c.Inputs.Contains(input)) == 1
            && !g.Nodes.Any(c => TopologicalSort.UsedNames(c).Contains(input) && !c.Inputs.Contains(input)));
        return slices is { } s ? s.Members.Sum(m => (double)m.Length) * s.Type.ElementSize() : 0;
    }

    private static KernelWork? Conv(Node n, int[] x, int[] w, double bytes, int mr, int nr)
    {
        ConvProblem p;
        try { p = ConvProblem.Create(ConvAttributes.Parse(n, m => new ShapeException(m)), x, w, m => new ShapeException(m)); }
        catch (LoomException) { return null; }
        if (p.Geometry.Rank > 3) return null;
        var g = new Conv3D(p.Geometry);
        long positions = (long)p.Batch * g.OutputSize, m = p.OutChannels, mg = p.OutChannelsPerGroup, k = p.GroupDepth;
        // FusedConv's pre-activation: a transformed copy of X, read and written once more (the implicit GEMM folds it into its plane copy).
        bool preActivation = n.OpType == ConvOps.FusedConv && n.Inputs.Length > 4 && n.Inputs[4].Length > 0;
        double inputBytes = 4.0 * p.Batch * p.Channels * g.InputSize;
        if (p.ChannelsPerGroup == 1 && mg == 1)
            return new KernelWork(KernelPath.ConvDepthwise, (double)positions * m * g.KernelSize, bytes);
        double copy = preActivation ? 2 * inputBytes : 0;
        if (mg < ConvFloat.MinGemmRows || k == 0)
            return new KernelWork(KernelPath.ConvDirect, (double)positions * m * k, bytes + copy);
        // What the kernel decides (ConvKernel.RunFloat, its weights packed once): Winograd, few positions, else the implicit GEMM
        // when it is eligible (strided 1×1 on the subsampled image), else im2col.
        bool wideEligible = x.Length is 3 or 4;
        var ks = GemmKernelSet.Current;
        if (ConvWinograd4.Worth(p, g))
        {
            // F(4×4) (ConvWinograd4): 36 products per channel pair and 4×4 tile, counted as for F(2×2) below.
            var l = ConvWinogradLayout.For<WinogradF4>(g, p.Channels, p.OutChannels, nr);
            double tiles = (double)(l.Blocks - 1) * l.BlockTiles + Up(l.Tiles - (l.Blocks - 1) * l.BlockTiles, nr);
            double transformed = 4.0 * ConvWinograd4.Frequencies * l.Tiles * (p.Channels + m) * 2;
            return new KernelWork(KernelPath.ConvWinograd, p.Batch * ConvWinograd4.Frequencies * (double)Up(m, mr) * tiles * p.Channels,
                bytes + p.Batch * (4.0 * p.Channels * l.PlaneSize + transformed)) { WinogradTile = 4 };
        }
        if (ConvWinograd.Worth(p, g, ks))
        {
            // The products as computed: 16 per channel pair and 2×2 tile, rows rounded to MR and each block's tiles to NR. The
            // bytes add the bordered planes and the transformed tiles and products (16 values per tile and channel, written and read).
            var l = ConvWinogradLayout.For<WinogradF2>(g, p.Channels, p.OutChannels, nr);
            double tiles = (double)(l.Blocks - 1) * l.BlockTiles + Up(l.Tiles - (l.Blocks - 1) * l.BlockTiles, nr);
            double transformed = 4.0 * ConvWinograd.Frequencies * l.Tiles * (p.Channels + m) * 2;
            return new KernelWork(KernelPath.ConvWinograd, p.Batch * ConvWinograd.Frequencies * (double)Up(m, mr) * tiles * p.Channels,
                bytes + p.Batch * (4.0 * p.Channels * l.PlaneSize + transformed)) { WinogradTile = 2 };
        }
        ConvWideGemm.Layout? wide = wideEligible && ConvWideGemm.Supports(g, p.Group, (int)k, ks) ? new ConvWideGemm.Layout(g, p.Channels, ks.NR) : null;
        if (ConvFewPositions.Worth(g, p.Group, p.OutChannels, ks, wide))
            return new KernelWork(KernelPath.ConvFewPositions, p.Batch * (double)Up(g.OutputSize, mr) * Up(m, nr) * k,
                bytes + copy + (wide is { NeedsCopy: true } ? 4.0 * p.Batch * p.Channels * wide.Phases * wide.Hq * wide.Wq : 0));
        if (wide is not null)
        {
            double planes = wide.NeedsCopy ? 4.0 * p.Batch * p.Channels * wide.Phases * wide.Hq * wide.Wq : 0;
            return new KernelWork(g.KernelSize == 1 ? KernelPath.ConvPointwise : KernelPath.ConvImplicitGemm,
                p.Batch * p.Group * (double)Up(mg, mr) * Up(wide.WideN, nr) * k, bytes + planes + (preActivation && !wide.NeedsCopy ? copy : 0));
        }
        double columns = g.IsPointwise ? 0 : 4.0 * p.Batch * p.Group * k * g.OutputSize; // im2col panels packed from the image
        return new KernelWork(KernelPath.ConvIm2ColGemm, p.Batch * p.Group * (double)Up(mg, mr) * Up(g.OutputSize, nr) * k, bytes + copy + columns);
    }

    /// <summary>
    /// A window over the whole input is a global reduction (its own fast kernel); output rows narrower than 8 are
    /// pooled without vectors, at a rate of their own.
    /// </summary>
    private static KernelWork Pool(Node n, Graph g, Func<string, long?> dims, long flops, double bytes)
    {
        var x = Shape(n, 0, g, dims);
        var y = Shape(n.Outputs[0], g, dims);
        var k = n.GetInts("kernel_shape");
        bool padded = n.GetInts("pads") is { } p && p.Any(v => v != 0);
        if (x is { Length: 4 } && y is { Length: 4 } && k is { Length: 2 } && k.Value[0] == x[2] && k.Value[1] == x[3] && !padded)
            return new KernelWork(KernelPath.Elementwise, 0, bytes) { Op = "Global" + n.OpType };
        var work = new KernelWork(KernelPath.Pool, Math.Max(flops, Window(n, g, dims)), bytes);
        return y is { Length: 4 } && y[3] < 8 ? work with { Op = n.OpType + " (rows < 8)" } : work;
    }

    private static long Up(long v, long m) => (v + m - 1) / m * m;

    private static bool Floating(Node n, Graph g) => g.TypeOf(n.Inputs[0]) is TensorType { ElementType: DataType.Float };

    /// <summary>Window reads of a pool: output elements times the kernel size.</summary>
    private static double Window(Node n, Graph g, Func<string, long?> dims)
    {
        if (Shape(n.Outputs[0], g, dims) is not { } y) return 0;
        double size = n.GetInts("kernel_shape") is { } k ? k.Aggregate(1L, (a, b) => a * b) : 1;
        return y.Aggregate(1.0, (a, b) => a * b) * size;
    }

    private static int[]? Shape(Node n, int input, Graph g, Func<string, long?> dims) => input < n.Inputs.Length ? Shape(n.Inputs[input], g, dims) : null;

    private static int[]? Shape(string name, Graph g, Func<string, long?> dims)
    {
        if (name.Length == 0 || g.TypeOf(name) is not TensorType { Shape: { } s }) return null;
        var r = new int[s.Rank];
        for (int i = 0; i < r.Length; i++)
            if (s.Dims[i].Evaluate(dims) is { } v && v >= 0 && v <= int.MaxValue) r[i] = (int)v;
            else return null;
        return r;
    }
}
