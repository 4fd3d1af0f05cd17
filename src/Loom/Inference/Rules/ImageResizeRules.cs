using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of Resize and Upsample.</summary>
[ShapeRules]
internal static class ImageResizeRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Resize", Resize);
        r.Add("Upsample", Resize);
    }

    private static void Resize(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (ctx.InputShape(0) is not { } shape) { ctx.SetOutput(0, dt, null); return; }
        int rank = shape.Rank;
        bool legacy = ctx.Node.OpType == "Upsample" || ctx.Opset < 11;
        var axes = Axes(ctx, rank, legacy);
        var dims = shape.Dims.ToArray();

        double[]? scales = null;
        bool scalesKnown = false, sizesGiven = false;
        if (ctx.Node.OpType == "Upsample" && ctx.Opset < 9)
        {
            scales = ctx.Node.GetFloats("scales")?.Select(f => (double)f).ToArray();
            scalesKnown = scales is not null;
        }
        else
        {
            int scalesInput = legacy ? 1 : 2;
            if (ctx.ConstantInput(scalesInput) is { } s)
            {
                scalesKnown = true;
                if (s.Length > 0) scales = Enumerable.Range(0, s.Length).Select(s.GetDouble).ToArray();
            }
            sizesGiven = !legacy && ctx.HasInput(3) && !(ctx.ConstantInput(3) is { Length: 0 });
            if (!scalesKnown && !ctx.HasInput(scalesInput)) scalesKnown = true; // omitted: sizes decide
        }

        if (scales is not null)
        {
            if (scales.Length != axes.Length) throw ctx.Fail($"'scales' has {scales.Length} elements, expected {axes.Length}");
            for (int i = 0; i < axes.Length; i++) dims[axes[i]] = ScaledDim(ctx, dims[axes[i]], scales[i]);
        }
        else if (scalesKnown && sizesGiven && ctx.ShapeValue(3) is { } sizes)
        {
            if (sizes.Length != axes.Length) throw ctx.Fail($"'sizes' has {sizes.Length} elements, expected {axes.Length}");
            var policy = ctx.Opset >= 18 ? ctx.GetString("keep_aspect_ratio_policy", "stretch") : "stretch";
            if (policy == "stretch")
                for (int i = 0; i < axes.Length; i++) dims[axes[i]] = sizes[i];
            else
                KeepAspectRatio(ctx, dims, axes, sizes, policy == "not_larger");
        }
        else
        {
            // Scales or sizes only known at run time: the resized axes get fresh sizes.
            foreach (int a in axes) dims[a] = ctx.NewSymbol();
        }
        ctx.SetOutput(0, dt, new Shape(dims));
    }

    private static int[] Axes(InferenceContext ctx, int rank, bool legacy)
    {
        if (legacy || ctx.Opset < 18 || ctx.GetInts("axes") is not { } raw) return Enumerable.Range(0, rank).ToArray();
        return raw.Select(a => ShapeHelpers.Axis(ctx, a, rank)).ToArray();
    }

    /// <summary>
    /// floor(dim * scale). A symbolic dim stays symbolic when the scale is a short binary fraction
    /// (2, 0.5, 1.5, 0.25 …): floor(dim * k / 2^m) is then exactly FloorDiv(dim * k, 2^m).
    /// </summary>
    private static Dim ScaledDim(InferenceContext ctx, Dim dim, double scale)
    {
        if (dim.Value is { } v) return (long)Math.Floor(scale * v);
        for (int m = 0; m <= 16 && scale > 0; m++)
        {
            double k = scale * (1 << m);
            if (k == Math.Floor(k) && k < 1L << 31) return Dim.FloorDiv(dim * (long)k, 1L << m);
        }
        return ctx.NewSymbol();
    }

    private static void KeepAspectRatio(InferenceContext ctx, Dim[] dims, int[] axes, System.Collections.Immutable.ImmutableArray<Dim> sizes, bool notLarger)
    {
        if (axes.Any(a => dims[a].Value is null) || sizes.Any(s => s.Value is null))
        {
            foreach (int a in axes) dims[a] = ctx.NewSymbol();
            return;
        }
        double scale = notLarger ? double.MaxValue : double.MinValue;
        for (int i = 0; i < axes.Length; i++)
        {
            long input = dims[axes[i]].Value!.Value;
            if (input == 0) continue;
            double s = (double)sizes[i].Value!.Value / input;
            scale = notLarger ? Math.Min(scale, s) : Math.Max(scale, s);
        }
        if (scale is double.MaxValue or double.MinValue) scale = 1;
        foreach (int a in axes) dims[a] = (long)Math.Floor(scale * dims[a].Value!.Value + 0.5);
    }
}
