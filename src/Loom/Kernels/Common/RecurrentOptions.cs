namespace Loom.Kernels.Common;

/// <summary>Which recurrent layer a node is, with the facts that differ between them.</summary>
internal enum RecurrentKind { Rnn, Gru, Lstm }

internal static class RecurrentKinds
{
    /// <summary>Gate blocks stacked in W, R and each half of B: RNN [i], GRU [z r h], LSTM [i o f c].</summary>
    public static int Gates(this RecurrentKind k) => k switch { RecurrentKind.Rnn => 1, RecurrentKind.Gru => 3, _ => 4 };

    public static string[] DefaultActivations(this RecurrentKind k) => k switch
    {
        RecurrentKind.Rnn => ["Tanh"],
        RecurrentKind.Gru => ["Sigmoid", "Tanh"],
        _ => ["Sigmoid", "Tanh", "Tanh"],
    };
}

/// <summary>The attributes of an RNN, GRU or LSTM node, parsed once when its kernel is created.</summary>
internal sealed record RecurrentOptions(
    RecurrentKind Kind,
    int HiddenSize,          // 0: taken from R's last dim
    bool Forward,            // false for direction=reverse
    int Directions,          // 2 for bidirectional
    bool BatchFirst,         // layout=1
    float? Clip,
    RecurrentActivation[][] Activations, // per direction
    bool LinearBeforeReset,  // GRU
    bool InputForget)        // LSTM
{
    public static RecurrentOptions Parse(KernelInfo info, RecurrentKind kind)
    {
        long hidden = info.GetInt("hidden_size", 0);
        if (hidden < 0) throw info.Fail($"hidden_size must be positive, got {hidden}");
        var direction = info.GetString("direction", "forward");
        if (direction is not ("forward" or "reverse" or "bidirectional"))
            throw info.Fail($"direction must be forward, reverse or bidirectional, got '{direction}'");
        int directions = direction == "bidirectional" ? 2 : 1;
        long layout = info.GetInt("layout", 0);
        if (layout is not (0 or 1)) throw info.Fail($"layout must be 0 or 1, got {layout}");
        float? clip = info.Node.HasAttribute("clip") ? info.GetFloat("clip", 0) : null;
        if (clip is <= 0) throw info.Fail($"clip must be positive, got {clip}");
        return new RecurrentOptions(kind, (int)hidden, direction != "reverse", directions, layout == 1, clip,
            RecurrentActivation.Parse(info, directions, kind.DefaultActivations()),
            info.GetInt("linear_before_reset", 0) != 0, info.GetInt("input_forget", 0) != 0);
    }
}
