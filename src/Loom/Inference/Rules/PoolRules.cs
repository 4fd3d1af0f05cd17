using Loom.IR;
using Loom.Kernels.Common;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of the pooling operators.</summary>
[ShapeRules]
internal static class PoolRules
{
    public static void Register(ShapeRules r)
    {
        r.Add(["MaxPool", "AveragePool", "LpPool"], Pool);
        r.Add(["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"], GlobalPool);
        r.Add("MaxUnpool", MaxUnpool);
        r.Add("MaxRoiPool", MaxRoiPool);
    }

    private static void Pool(InferenceContext ctx)
    {
        var attrs = ConvAttributes.Parse(ctx.Node, ctx.Fail);
        if (attrs.KernelShape is null) throw ctx.Fail("kernel_shape is required");
        var x = ctx.InputShape(0);
        Shape? y = null;
        if (x is not null)
        {
            if (x.Rank < 3) throw ctx.Fail($"input has shape {x}; it needs [N, C, spatial...]");
            var kernel = attrs.KernelShape.Select(k => Dim.Of(k)).ToList();
            if (kernel.Count != x.Rank - 2) throw ctx.Fail($"kernel_shape has {kernel.Count} values for {x.Rank - 2} spatial axes");
            var spatial = ConvGeometry.OutputDims(attrs, x.Dims.Skip(2).ToList(), kernel, pool: true, ctx.Fail);
            y = new Shape([x[0], x[1], .. spatial]);
        }
        ctx.SetOutput(0, ctx.InputDataType(0), y);
        if (ctx.OutputCount > 1) ctx.SetOutput(1, DataType.Int64, y);
    }

    private static void GlobalPool(InferenceContext ctx)
    {
        var x = ctx.InputShape(0);
        if (x is not null && x.Rank < 2) throw ctx.Fail($"input has shape {x}; it needs [N, C, spatial...]");
        ctx.SetOutput(0, ctx.InputDataType(0), x is null ? null : new Shape(x.Dims.Select((d, i) => i < 2 ? d : Dim.One)));
    }

    private static void MaxUnpool(InferenceContext ctx)
    {
        var x = ctx.InputShape(0);
        var dtype = ctx.InputDataType(0);
        if (ctx.HasInput(2))
        {
            var requested = ctx.ShapeValue(2);
            int? outRank = x?.Rank ?? (ctx.InputShape(2) is { Rank: 1 } s && s[0].Value is { } n ? (int)n : null);
            ctx.SetOutput(0, dtype, requested is { } v ? new Shape(v) : outRank is { } r ? new Shape(Enumerable.Range(0, r).Select(_ => ctx.NewSymbol())) : null);
            return;
        }
        if (x is null) { ctx.SetOutput(0, dtype, null); return; }
        var kernel = ctx.GetInts("kernel_shape") ?? throw ctx.Fail("kernel_shape is required");
        int rank = x.Rank - 2;
        if (kernel.Length != rank) throw ctx.Fail($"kernel_shape has {kernel.Length} values for {rank} spatial axes");
        var strides = ctx.GetInts("strides");
        var pads = ctx.GetInts("pads");
        var dims = new List<Dim> { x[0], x[1] };
        for (int i = 0; i < rank; i++)
        {
            long s = strides is { } st ? st[i] : 1, p = pads is { } pd ? pd[i] + pd[i + rank] : 0;
            dims.Add((x[i + 2] - 1) * s - p + kernel[i]);
        }
        ctx.SetOutput(0, dtype, new Shape(dims));
    }

    private static void MaxRoiPool(InferenceContext ctx)
    {
        var x = ctx.InputShape(0);
        var rois = ctx.InputShape(1);
        var pooled = ctx.GetInts("pooled_shape") ?? throw ctx.Fail("pooled_shape is required");
        if (pooled.Length != 2) throw ctx.Fail($"pooled_shape has {pooled.Length} values; it needs 2");
        ctx.SetOutput(0, ctx.InputDataType(0), new Shape([rois?[0] ?? ctx.NewSymbol(), x?[1] ?? ctx.NewSymbol(), pooled[0], pooled[1]]));
    }
}
