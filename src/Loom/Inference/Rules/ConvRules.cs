using Loom.IR;
using Loom.Kernels.Common;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of Conv, ConvInteger, QLinearConv, DeformConv and ConvTranspose.</summary>
[ShapeRules]
internal static class ConvRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Conv", ctx => Conv(ctx, 0, 1, ctx.InputDataType(0)));
        r.Add("ConvInteger", ctx => Conv(ctx, 0, 1, DataType.Int32));
        r.Add("QLinearConv", ctx => Conv(ctx, 0, 3, ctx.HasInput(7) ? ctx.InputDataType(7) : ctx.InputDataType(0)));
        r.Add("DeformConv", ctx => Conv(ctx, 0, 1, ctx.InputDataType(0)));
        r.Add("ConvTranspose", ConvTranspose);
        r.Add(ConvOps.FusedConv, FusedConv, domain: ConvOps.LoomDomain);
        r.Add(ConvOps.FusedConvTranspose, ConvTranspose, domain: ConvOps.LoomDomain);
    }

    /// <summary>[N, M, out…] with out from the window formula; kernel sizes from kernel_shape or W's dims.</summary>
    private static void Conv(InferenceContext ctx, int xi, int wi, DataType dtype)
    {
        var attrs = ConvAttributes.Parse(ctx.Node, ctx.Fail);
        var x = ctx.InputShape(xi);
        var w = ctx.InputShape(wi);
        if (x is null) { ctx.SetOutput(0, dtype, null); return; }
        if (x.Rank < 3) throw ctx.Fail($"input has shape {x}; it needs [N, C, spatial...]");
        if (w is not null && w.Rank != x.Rank) throw ctx.Fail($"weight shape {w} does not have the rank of the input {x}");
        var kernel = KernelDims(ctx, attrs.KernelShape, w, x.Rank - 2);
        var spatial = ConvGeometry.OutputDims(attrs, x.Dims.Skip(2).ToList(), kernel, pool: false, ctx.Fail);
        ctx.SetOutput(0, dtype, new Shape([x[0], w?[0] ?? ctx.NewSymbol(), .. spatial]));
    }

    /// <summary>As Conv; with <c>spatial_mean</c> (Passes.FuseConvMean) the mean over the positions: [N, M, 1, …].</summary>
    private static void FusedConv(InferenceContext ctx)
    {
        Conv(ctx, 0, 1, ctx.InputDataType(0));
        if (ctx.Node.GetInt(Passes.FuseConvMean.Attribute, 0) != 0 && ctx.OutputType(0) is TensorType { Shape: { } y } t)
            ctx.SetOutput(0, t.ElementType, new Shape([y[0], y[1], .. Enumerable.Repeat(Dim.One, y.Rank - 2)]));
    }

    private static void ConvTranspose(InferenceContext ctx)
    {
        var attrs = ConvTransposeGeometry.Attributes.Parse(ctx.Node, ctx.Fail);
        var x = ctx.InputShape(0);
        var w = ctx.InputShape(1);
        if (x is null) { ctx.SetOutput(0, ctx.InputDataType(0), null); return; }
        if (x.Rank < 3) throw ctx.Fail($"input has shape {x}; it needs [N, C, spatial...]");
        if (w is not null && w.Rank != x.Rank) throw ctx.Fail($"weight shape {w} does not have the rank of the input {x}");
        var kernel = KernelDims(ctx, attrs.Conv.KernelShape, w, x.Rank - 2);
        var spatial = ConvTransposeGeometry.OutputDims(attrs, x.Dims.Skip(2).ToList(), kernel, ctx.Fail);
        var m = w is null ? ctx.NewSymbol() : w[1] * attrs.Conv.Group;
        ctx.SetOutput(0, ctx.InputDataType(0), new Shape([x[0], m, .. spatial]));
    }

    /// <summary>Kernel sizes from the attribute, else from the weight's trailing dims, else fresh symbols.</summary>
    public static Dim[] KernelDims(InferenceContext ctx, long[]? kernelShape, Shape? w, int rank)
    {
        if (kernelShape is { } ks)
        {
            if (ks.Length != rank) throw ctx.Fail($"kernel_shape has {ks.Length} values for {rank} spatial axes");
            return ks.Select(k => Dim.Of(k)).ToArray();
        }
        if (w is not null) return w.Dims.Skip(2).ToArray();
        return Enumerable.Range(0, rank).Select(_ => ctx.NewSymbol()).ToArray();
    }
}
