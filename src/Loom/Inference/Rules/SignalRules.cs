using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of DFT, STFT, the window functions and MelWeightMatrix.</summary>
[ShapeRules]
internal static class SignalRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("DFT", Dft);
        r.Add("STFT", Stft);
        r.Add(["HannWindow", "HammingWindow", "BlackmanWindow"], Window);
        r.Add("MelWeightMatrix", MelWeightMatrix);
    }

    /// <summary>A scalar integer input as a dim (symbolic when it comes from a shape), or null when unknown.</summary>
    private static Dim? ScalarDim(InferenceContext ctx, int i) => ctx.ShapeValue(i) is { Length: 1 } v ? v[0] : null;

    private static DataType OutputType(InferenceContext ctx) => (DataType)ctx.GetInt("output_datatype", (long)DataType.Float);

    private static void Dft(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (ctx.InputShape(0) is not { } shape) { ctx.SetOutput(0, dt, null); return; }
        int rank = shape.Rank;
        if (rank < 2) throw ctx.Fail($"input has rank {rank}; expected at least 2");
        bool inverse = ctx.GetInt("inverse", 0) != 0, onesided = ctx.GetInt("onesided", 0) != 0, irfft = inverse && onesided;
        var dims = shape.Dims.ToArray();
        dims[rank - 1] = irfft ? 1 : 2;
        long? axis = ctx.Opset >= 20 ? (ctx.HasInput(2) ? ScalarDim(ctx, 2)?.Value : -2) : ctx.GetInt("axis", 1);
        bool lengthChanges = ctx.HasInput(1) || onesided;
        if (axis is not { } a)
        {
            // Unknown axis: only the complex dim is certain when the length may change.
            if (lengthChanges) for (int d = 0; d < rank - 1; d++) dims[d] = ctx.NewSymbol();
            ctx.SetOutput(0, dt, new Shape(dims));
            return;
        }
        if (a < -rank || a > rank - 2 || a == -1) throw ctx.Fail($"axis {a} is out of range for rank {rank}");
        int ax = (int)(a < 0 ? a + rank : a);
        var length = ctx.HasInput(1) ? ScalarDim(ctx, 1) : irfft ? (shape[ax] - 1) * 2 : shape[ax];
        dims[ax] = length is null ? ctx.NewSymbol() : onesided && !inverse ? Dim.FloorDiv(length, 2) + 1 : length;
        ctx.SetOutput(0, dt, new Shape(dims));
    }

    /// <summary>[batch, frames, bins, 2]: frames = 1 + (length - frame_length) / frame_step.</summary>
    private static void Stft(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var signal = ctx.InputShape(0);
        var batch = signal is { Rank: 3 } ? signal[0] : ctx.NewSymbol();
        var frameLength = ctx.HasInput(3) ? ScalarDim(ctx, 3) : ctx.InputShape(2) is { Rank: 1 } w ? w[0] : null;
        var step = ScalarDim(ctx, 1);
        Dim frames = signal is { Rank: 3 } && frameLength is not null && step is not null && (step.Value ?? 0) > 0
            ? Dim.FloorDiv(signal[1] - frameLength, step) + 1 : ctx.NewSymbol();
        bool real = signal is { Rank: 3 } && signal[2].Value == 1;
        bool complex = signal is { Rank: 3 } && signal[2].Value == 2;
        bool onesided = ctx.GetInt("onesided", 1) != 0;
        Dim bins = frameLength is null || !real && !complex ? ctx.NewSymbol() : onesided && real ? Dim.FloorDiv(frameLength, 2) + 1 : frameLength;
        ctx.SetOutput(0, dt, new Shape([batch, frames, bins, Dim.Of(2)]));
    }

    private static void Window(InferenceContext ctx) =>
        ctx.SetOutput(0, OutputType(ctx), new Shape([ScalarDim(ctx, 0) ?? ctx.NewSymbol()]));

    /// <summary>[dft_length / 2 + 1, num_mel_bins].</summary>
    private static void MelWeightMatrix(InferenceContext ctx)
    {
        var bins = ScalarDim(ctx, 1) is { } n ? Dim.FloorDiv(n, 2) + 1 : ctx.NewSymbol();
        ctx.SetOutput(0, OutputType(ctx), new Shape([bins, ScalarDim(ctx, 0) ?? ctx.NewSymbol()]));
    }
}
