using Loom.IR;

namespace Loom.Kernels.Common;

internal enum AutoPad { NotSet, SameUpper, SameLower, Valid }

/// <summary>
/// The window attributes shared by Conv, ConvTranspose, the pools and their quantized forms
/// (auto_pad, kernel_shape, strides, dilations, pads, group, ceil_mode), parsed once per node.
/// Lists that are absent stay null and default per spatial rank when the rank is known.
/// </summary>
internal sealed class ConvAttributes
{
    public AutoPad AutoPad { get; private init; }
    public long[]? KernelShape { get; private init; }
    public long[]? Strides { get; private init; }
    public long[]? Dilations { get; private init; }
    public long[]? Pads { get; private init; }
    public int Group { get; private init; } = 1;
    public bool CeilMode { get; private init; }

    public static ConvAttributes Parse(Node node, Func<string, Exception> fail)
    {
        var autoPad = node.GetString("auto_pad", "NOTSET") switch
        {
            "NOTSET" or "" => AutoPad.NotSet,
            "SAME_UPPER" => AutoPad.SameUpper,
            "SAME_LOWER" => AutoPad.SameLower,
            "VALID" => AutoPad.Valid,
            var s => throw fail($"auto_pad '{s}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID"),
        };
        long group = node.GetInt("group", 1);
        if (group < 1 || group > int.MaxValue) throw fail($"group {group} must be positive");
        var a = new ConvAttributes
        {
            AutoPad = autoPad,
            KernelShape = node.GetInts("kernel_shape")?.ToArray(),
            Strides = node.GetInts("strides")?.ToArray(),
            Dilations = node.GetInts("dilations")?.ToArray(),
            Pads = node.GetInts("pads")?.ToArray(),
            Group = (int)group,
            CeilMode = node.GetInt("ceil_mode", 0) != 0,
        };
        if (a.KernelShape?.Any(k => k < 1) == true) throw fail("kernel_shape values must be positive");
        if (a.Strides?.Any(s => s < 1) == true) throw fail("strides must be positive");
        if (a.Dilations?.Any(d => d < 1) == true) throw fail("dilations must be positive");
        if (a.Pads?.Any(p => p < 0) == true) throw fail("pads must not be negative");
        if (a.Pads is { Length: var n } && n % 2 != 0) throw fail($"pads has {n} values; it needs two per spatial axis");
        return a;
    }

    /// <summary>Checks the lists against the spatial rank (known once the input or weight rank is).</summary>
    public void CheckRank(int rank, Func<string, Exception> fail)
    {
        if (KernelShape is { } k && k.Length != rank) throw fail($"kernel_shape has {k.Length} values for {rank} spatial axes");
        if (Strides is { } s && s.Length != rank) throw fail($"strides has {s.Length} values for {rank} spatial axes");
        if (Dilations is { } d && d.Length != rank) throw fail($"dilations has {d.Length} values for {rank} spatial axes");
        if (Pads is { } p && p.Length != 2 * rank) throw fail($"pads has {p.Length} values for {rank} spatial axes");
    }

    public int Stride(int axis) => Strides is { } s ? (int)s[axis] : 1;
    public int Dilation(int axis) => Dilations is { } d ? (int)d[axis] : 1;
    public int PadBegin(int axis) => AutoPad == AutoPad.NotSet && Pads is { } p ? (int)p[axis] : 0;
    public int PadEnd(int axis, int rank) => AutoPad == AutoPad.NotSet && Pads is { } p ? (int)p[axis + rank] : 0;
}

/// <summary>
/// The concrete window geometry of one run: per spatial axis the input, kernel, stride, dilation,
/// pads (as applied, auto_pad resolved) and output sizes.
/// </summary>
internal sealed class ConvGeometry
{
    public required int[] Input { get; init; }
    public required int[] Kernel { get; init; }
    public required int[] Stride { get; init; }
    public required int[] Dilation { get; init; }
    public required int[] PadBegin { get; init; }
    public required int[] PadEnd { get; init; }
    public required int[] Output { get; init; }

    public int Rank => Input.Length;
    public int InputSize => Product(Input);
    public int OutputSize => Product(Output);
    public int KernelSize => Product(Kernel);

    public static int Product(int[] v)
    {
        long p = 1;
        foreach (var x in v) p *= x;
        return checked((int)p);
    }

    /// <summary>
    /// Output sizes of Conv (<paramref name="pool"/> false) or of a pool: explicit pads with floor (or,
    /// for pools, ceil_mode, dropping a last window that would start in the end padding); SAME_* makes
    /// the output ceil(in/stride) and splits the needed padding (the odd one at the end for SAME_UPPER).
    /// </summary>
    public static ConvGeometry Compute(ConvAttributes a, ReadOnlySpan<int> input, ReadOnlySpan<int> kernel, bool pool, Func<string, Exception> fail)
    {
        int rank = input.Length;
        a.CheckRank(rank, fail);
        var g = new ConvGeometry
        {
            Input = input.ToArray(), Kernel = kernel.ToArray(), Stride = new int[rank], Dilation = new int[rank],
            PadBegin = new int[rank], PadEnd = new int[rank], Output = new int[rank],
        };
        for (int i = 0; i < rank; i++)
        {
            int s = g.Stride[i] = a.Stride(i), d = g.Dilation[i] = a.Dilation(i);
            long eff = (long)d * (kernel[i] - 1) + 1, inp = input[i];
            long pb, pe, outSize;
            if (a.AutoPad is AutoPad.SameUpper or AutoPad.SameLower)
            {
                outSize = (inp + s - 1) / s;
                long total = Math.Max(0, (outSize - 1) * s + eff - inp);
                pb = a.AutoPad == AutoPad.SameUpper ? total / 2 : total - total / 2;
                pe = total - pb;
            }
            else
            {
                pb = a.PadBegin(i);
                pe = a.PadEnd(i, rank);
                long span = inp + pb + pe - eff;
                if (pool && a.CeilMode)
                    outSize = span < 0 ? 0 : Math.Min(CeilDiv(span, s), FloorDiv(inp + pb - 1, s)) + 1;
                else
                    outSize = FloorDiv(span, s) + 1;
            }
            if (outSize < 0 || (outSize == 0 && inp > 0))
                throw fail($"spatial axis {i}: input size {inp} with kernel {kernel[i]}, dilation {d}, stride {s}, pads {pb}+{pe} gives no output");
            g.PadBegin[i] = (int)pb;
            g.PadEnd[i] = (int)pe;
            g.Output[i] = (int)outSize;
        }
        return g;
    }

    /// <summary>The same rule over symbolic dims, for shape inference.</summary>
    public static Dim[] OutputDims(ConvAttributes a, IReadOnlyList<Dim> input, IReadOnlyList<Dim> kernel, bool pool, Func<string, Exception> fail)
    {
        int rank = input.Count;
        a.CheckRank(rank, fail);
        var output = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            Dim s = a.Stride(i), inp = input[i];
            Dim eff = a.Dilation(i) * (kernel[i] - 1) + 1;
            if (a.AutoPad is AutoPad.SameUpper or AutoPad.SameLower)
            {
                output[i] = Dim.CeilDiv(inp, s);
                continue;
            }
            Dim pb = a.PadBegin(i), span = inp + pb + a.PadEnd(i, rank) - eff;
            output[i] = pool && a.CeilMode
                ? Dim.Min(Dim.CeilDiv(span, s), Dim.FloorDiv(inp + pb - 1, s)) + 1
                : Dim.FloorDiv(span, s) + 1;
            if (output[i].Value is { } v && (v < 0 || (v == 0 && inp.Value is not 0)))
                throw fail($"spatial axis {i}: input size {inp} with kernel {kernel[i]} gives output size {output[i]}");
        }
        return output;
    }

    public static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
    public static long CeilDiv(long a, long b) => -FloorDiv(-a, b);
}
