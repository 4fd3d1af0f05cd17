namespace Loom.Kernels.Common;

/// <summary>
/// One convolution's sizes, checked: X [N, C, spatial…], W [M, C/group, kernel…], the window
/// geometry and the output shape [N, M, out…]. Shared by Conv, ConvInteger, QLinearConv and DeformConv.
/// </summary>
internal sealed class ConvProblem
{
    public required int Batch { get; init; }
    public required int Channels { get; init; }
    public required int OutChannels { get; init; }
    public required int Group { get; init; }
    public required ConvGeometry Geometry { get; init; }
    public required int[] OutputShape { get; init; }

    public int ChannelsPerGroup => Channels / Group;
    public int OutChannelsPerGroup => OutChannels / Group;

    /// <summary>Rows of one group's weight matrix: C/group · kernel size.</summary>
    public int GroupDepth => ChannelsPerGroup * Geometry.KernelSize;

    public static ConvProblem Create(ConvAttributes a, ReadOnlySpan<int> x, ReadOnlySpan<int> w, Func<string, Exception> fail)
    {
        if (x.Length < 3) throw fail($"input has shape {ShapeMath.Format(x)}; it needs [N, C, spatial...]");
        if (w.Length != x.Length) throw fail($"weight shape {ShapeMath.Format(w)} does not have the rank of the input {ShapeMath.Format(x)}");
        int group = a.Group, c = x[1], m = w[0];
        if (c % group != 0 || w[1] * group != c)
            throw fail($"input has {c} channels but weight {ShapeMath.Format(w)} with group {group} expects {w[1] * group}");
        if (m % group != 0) throw fail($"{m} output channels are not divisible by group {group}");
        var kernel = w[2..];
        if (a.KernelShape is { } ks && !ks.SequenceEqual(kernel.ToArray().Select(k => (long)k)))
            throw fail($"kernel_shape [{string.Join(",", ks)}] does not match weight shape {ShapeMath.Format(w)}");
        var geo = ConvGeometry.Compute(a, x[2..], kernel, pool: false, fail);
        return new ConvProblem
        {
            Batch = x[0], Channels = c, OutChannels = m, Group = group, Geometry = geo,
            OutputShape = [x[0], m, .. geo.Output],
        };
    }

    /// <summary>The geometry lifted to 3-D, or an error for more than 3 spatial axes.</summary>
    public Conv3D As3D(Func<string, Exception> unsupported) =>
        Geometry.Rank <= 3 ? new Conv3D(Geometry) : throw unsupported($"convolution over {Geometry.Rank} spatial axes is not supported (at most 3)");
}

/// <summary>
/// A Conv node's problem at one input and weight shape, with its 3-D geometry and, when the node reads B
/// straight from the image (<see cref="ConvWideGemm"/>), that path's layout (cached per node).
/// </summary>
internal sealed record ConvPlan(ConvProblem Problem, Conv3D Geometry, ConvWideGemm.Layout? Wide)
{
    /// <summary>The output shape of a convolution that writes the mean over its positions (FusedConv spatial_mean): [N, M, 1, …].</summary>
    public int[] MeanShape { get; } = [Problem.Batch, Problem.OutChannels, .. Enumerable.Repeat(1, Problem.OutputShape.Length - 2)];

    /// <param name="wide">The kernel set of the node's full-depth packed weights, or null when it has none.</param>
    public static ConvPlan Create(ConvAttributes attrs, Runtime.KernelContext ctx, GemmKernelSet? wide)
    {
        var p = ConvProblem.Create(attrs, ctx.Input(0).Shape, ctx.Input(1).Shape, ctx.Fail);
        var g = p.As3D(ctx.Fail);
        var layout = wide is not null && ConvWideGemm.Supports(g, p.Group, p.GroupDepth, wide) ? new ConvWideGemm.Layout(g, p.Channels, wide.NR) : null;
        return new ConvPlan(p, g, layout);
    }
}
