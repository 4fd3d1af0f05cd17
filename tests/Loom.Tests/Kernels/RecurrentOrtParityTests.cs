using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>Loom's RNN, GRU and LSTM give ONNX Runtime's answers on random weights (ORT supports layout 0 only).</summary>
public sealed class RecurrentOrtParityTests
{
    private static void Check(string op, int gates, Attr[] attrs, bool withCellInputs = false)
    {
        var rng = new Random(op.Length * 31 + attrs.Length);
        int seq = 5, batch = 3, input = 4, hidden = 6;
        bool bidi = attrs.Any(a => a.Name == "direction" && a.AsString() == "bidirectional");
        int dirs = bidi ? 2 : 1;
        Tensor?[] inputs =
        [
            OrtParity.Random(rng, seq, batch, input),
            OrtParity.Random(rng, dirs, gates * hidden, input),
            OrtParity.Random(rng, dirs, gates * hidden, hidden),
            OrtParity.Random(rng, dirs, 2 * gates * hidden),
            Tensor.FromArray(new[] { 5, 2, 0 }, batch),
            OrtParity.Random(rng, dirs, batch, hidden),
            .. withCellInputs ? new[] { OrtParity.Random(rng, dirs, batch, hidden), OrtParity.Random(rng, dirs, 3 * hidden) } : [],
        ];
        var (model, feeds) = OrtParity.OneNode(op, [Attr.Int("hidden_size", hidden), .. attrs], op == "LSTM" ? 3 : 2, 22, inputs);
        OrtParity.AssertSame(model, feeds);
    }

    [Theory]
    [InlineData("forward")]
    [InlineData("reverse")]
    [InlineData("bidirectional")]
    public void Rnn(string direction) => Check("RNN", 1, [Attr.String("direction", direction)]);

    [Theory]
    [InlineData("forward", 0)]
    [InlineData("reverse", 1)]
    [InlineData("bidirectional", 0)]
    [InlineData("bidirectional", 1)]
    public void Gru(string direction, int linearBeforeReset) =>
        Check("GRU", 3, [Attr.String("direction", direction), Attr.Int("linear_before_reset", linearBeforeReset)]);

    [Theory]
    [InlineData("forward", 0)]
    [InlineData("reverse", 1)]
    [InlineData("bidirectional", 0)]
    public void Lstm(string direction, int inputForget) =>
        Check("LSTM", 4, [Attr.String("direction", direction), Attr.Int("input_forget", inputForget)], withCellInputs: true);

    [Fact]
    public void ActivationsWithParametersAndClip() =>
        Check("GRU", 3, [Attr.Strings("activations", ["HardSigmoid", "LeakyRelu"]), Attr.Floats("activation_alpha", [0.3f, 0.2f]),
            Attr.Floats("activation_beta", [0.4f]), Attr.Float("clip", 0.7f)]);

    [Fact]
    public void LstmWithClipAndCustomActivations() =>
        Check("LSTM", 4, [Attr.Strings("activations", ["Sigmoid", "Elu", "Softsign"]), Attr.Floats("activation_alpha", [0.5f]), Attr.Float("clip", 0.8f)],
            withCellInputs: true);
}
