using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of GridSample, AffineGrid and ImageDecoder.</summary>
[ShapeRules]
internal static class ImageGridRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("GridSample", GridSample);
        r.Add("AffineGrid", AffineGrid);
        r.Add("ImageDecoder", ImageDecoder);
    }

    /// <summary>(height, width, channels): the size is only known once the stream is decoded.</summary>
    private static void ImageDecoder(InferenceContext ctx) =>
        ctx.SetOutput(0, DataType.UInt8, new Shape([ctx.NewSymbol(), ctx.NewSymbol(), Dim.Of(ctx.GetString("pixel_format", "RGB") == "Grayscale" ? 1 : 3)]));

    /// <summary>Y is (N, C, grid's spatial dims): X's batch and channels, sampled at every grid point.</summary>
    private static void GridSample(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var x = ctx.InputShape(0);
        var grid = ctx.InputShape(1);
        if (grid is null) { ctx.SetOutput(0, dt, x is null ? null : new Shape(x.Dims.Select((d, i) => i < 2 ? d : ctx.NewSymbol()))); return; }
        if (grid.Rank < 3) throw ctx.Fail($"grid has rank {grid.Rank}; expected at least 3");
        if (x is not null && x.Rank != grid.Rank) throw ctx.Fail($"X has rank {x.Rank} but grid has rank {grid.Rank}");
        if (grid[grid.Rank - 1].Value is { } r && r != grid.Rank - 2) throw ctx.Fail($"grid's last dim is {r}; expected {grid.Rank - 2}");
        var n = x is not null && x[0].IsKnown ? x[0] : grid[0];
        var c = x is not null ? x[1] : ctx.NewSymbol();
        ctx.SetOutput(0, dt, new Shape([n, c, .. grid.Dims.Skip(1).Take(grid.Rank - 2)]));
    }

    /// <summary>grid is (N, H, W, 2) or (N, D, H, W, 3) from size = (N, C, H, W) or (N, C, D, H, W).</summary>
    private static void AffineGrid(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var theta = ctx.InputShape(0);
        if (ctx.ShapeValue(1) is { } size)
        {
            if (size.Length is not (4 or 5)) throw ctx.Fail($"'size' has {size.Length} elements; expected 4 or 5");
            ctx.SetOutput(0, dt, new Shape([size[0], .. size.Skip(2), Dim.Of(size.Length - 2)]));
            return;
        }
        long? r = theta is { Rank: 3 } ? theta[1].Value : null;
        if (r is null && ctx.InputShape(1) is { Rank: 1 } s && s[0].Value is { } len) r = len - 2;
        if (r is null) { ctx.SetOutput(0, dt, null); return; }
        var dims = new List<Dim> { theta is { Rank: 3 } ? theta[0] : ctx.NewSymbol() };
        for (int i = 0; i < r; i++) dims.Add(ctx.NewSymbol());
        dims.Add(Dim.Of(r.Value));
        ctx.SetOutput(0, dt, new Shape(dims));
    }
}
