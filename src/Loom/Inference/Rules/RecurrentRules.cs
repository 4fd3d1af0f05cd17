using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of RNN, GRU and LSTM: Y, Y_h (and LSTM's Y_c) from X, the direction, hidden_size and layout.</summary>
[ShapeRules]
internal static class RecurrentRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("RNN", ctx => Recurrent(ctx, 1));
        r.Add("GRU", ctx => Recurrent(ctx, 3));
        r.Add("LSTM", ctx => Recurrent(ctx, 4));
    }

    private static void Recurrent(InferenceContext ctx, int gates)
    {
        var dt = ctx.InputDataType(0);
        var x = ctx.InputShape(0);
        if (x is null)
        {
            for (int i = 0; i < ctx.OutputCount; i++) ctx.SetOutput(i, dt, null);
            return;
        }
        if (x.Rank != 3) throw ctx.Fail($"X must be 3-D, got {x}");
        bool batchFirst = ctx.GetInt("layout", 0) == 1;
        Dim seq = batchFirst ? x[1] : x[0], batch = batchFirst ? x[0] : x[1];
        Dim dirs = ctx.GetString("direction", "forward") == "bidirectional" ? 2 : 1;
        long hiddenAttr = ctx.GetInt("hidden_size", 0);
        Dim hidden = hiddenAttr > 0 ? hiddenAttr
            : ctx.InputShape(2) is { Rank: 3 } r ? r[2]
            : ctx.InputShape(1) is { Rank: 3 } w ? Dim.FloorDiv(w[1], gates)
            : ctx.NewSymbol();

        ctx.SetOutput(0, dt, new Shape(batchFirst ? [batch, seq, dirs, hidden] : new[] { seq, dirs, batch, hidden }));
        var state = new Shape(batchFirst ? [batch, dirs, hidden] : new[] { dirs, batch, hidden });
        ctx.SetOutput(1, dt, state);
        if (gates == 4) ctx.SetOutput(2, dt, state);
    }
}
