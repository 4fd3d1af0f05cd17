using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>RNN, GRU and LSTM with hidden size 1, checked against steps computed by hand.</summary>
public sealed class RecurrentTests
{
    private static Tensor[] Run(string op, Attr[] attrs, int outputs, params Tensor?[] inputs) =>
        OpTester.Run(op, [Attr.Int("hidden_size", 1), .. attrs], outputs, 22, "", inputs);

    // One LSTM step, x = 1, W = [.5 .6 .7 .8] (gates i o f c), R = [.1 .2 .3 .4], Wb = [.01 .02 .03 .04],
    // H0 = .5, C0 = .25:  i = σ(.56), o = σ(.72), f = σ(.88), c = tanh(1.04), C = f·C0 + i·c, H = o·tanh(C).
    private static readonly Tensor X1 = F([1], 1, 1, 1);
    private static readonly Tensor LstmW = F([.5f, .6f, .7f, .8f], 1, 4, 1);
    private static readonly Tensor LstmR = F([.1f, .2f, .3f, .4f], 1, 4, 1);
    private static readonly Tensor LstmB = F([.01f, .02f, .03f, .04f, 0, 0, 0, 0], 1, 8);
    private static readonly Tensor H0 = F([.5f], 1, 1, 1);
    private static readonly Tensor C0 = F([.25f], 1, 1, 1);

    [Fact]
    public void LstmOneStep()
    {
        var r = Run("LSTM", [], 3, X1, LstmW, LstmR, LstmB, null, H0, C0);
        AssertClose([0.39425465f], r[0]);
        AssertClose([0.39425465f], r[1]);
        AssertClose([0.67179439f], r[2]);
        Assert.Equal([1, 1, 1, 1], r[0].Shape.ToArray());
    }

    [Fact]
    public void LstmPeepholesReadOldCellForInputAndForgetAndNewCellForOutput()
    {
        // P = [Pi Po Pf] = [.1 .2 .3]: i = σ(.56 + .1·C0), f = σ(.88 + .3·C0), o = σ(.72 + .2·C).
        var r = Run("LSTM", [], 3, X1, LstmW, LstmR, LstmB, null, H0, C0, F([.1f, .2f, .3f], 1, 3));
        AssertClose([0.41519216f], r[1]);
        AssertClose([0.68010291f], r[2]);
    }

    [Fact]
    public void LstmInputForgetCouplesTheGates()
    {
        var r = Run("LSTM", [Attr.Int("input_forget", 1)], 3, X1, LstmW, LstmR, LstmB, null, H0, C0);
        AssertClose([0.35446062f], r[1]);
        AssertClose([0.58597570f], r[2]);
    }

    [Theory]
    [InlineData(0, 0.57534771f)] // candidate = tanh(Wh·x + Wbh + (r·H0)·Rh + Rbh)
    [InlineData(1, 0.57199128f)] // candidate = tanh(Wh·x + Wbh + r·(H0·Rh + Rbh))
    public void GruOneStep(int linearBeforeReset, float expected)
    {
        // Gates z r h: W = [.5 .6 .7], R = [.1 .2 .3], Wb = [.01 .02 .03], Rb = [.04 .05 .06], H0 = .5.
        var r = Run("GRU", [Attr.Int("linear_before_reset", linearBeforeReset)], 2, X1,
            F([.5f, .6f, .7f], 1, 3, 1), F([.1f, .2f, .3f], 1, 3, 1), F([.01f, .02f, .03f, .04f, .05f, .06f], 1, 6), null, H0);
        AssertClose([expected], r[1]);
    }

    // RNN with W = 1, R = .5 over batch rows x = (.1 .2 .3) and (.4 .5 pad), sequence_lens = (3, 2).
    private static readonly Tensor RnnX = F([.1f, .4f, .2f, .5f, .3f, 9f], 3, 2, 1);
    private static readonly Tensor RnnW = F([1], 1, 1, 1);
    private static readonly Tensor RnnR = F([.5f], 1, 1, 1);
    private static readonly Tensor Lens = Tensor.FromArray(new[] { 3, 2 }, 2);

    [Fact]
    public void RnnForwardStopsAtEachSequenceLength()
    {
        var r = Run("RNN", [], 2, RnnX, RnnW, RnnR, null, Lens);
        AssertClose([0.09966799f, 0.37994896f, 0.24476261f, 0.59796561f, 0.39893466f, 0], r[0]);
        AssertClose([0.39893466f, 0.59796561f], r[1]);
    }

    [Fact]
    public void RnnReverseStartsFromEachRowsLastStep()
    {
        var r = Run("RNN", [Attr.String("direction", "reverse")], 2, RnnX, RnnW, RnnR, null, Lens);
        AssertClose([0.26014028f, 0.55878070f, 0.33251772f, 0.46211716f, 0.29131261f, 0], r[0]);
        AssertClose([0.26014028f, 0.55878070f], r[1]);
    }

    [Fact]
    public void BidirectionalStacksForwardAndReverse()
    {
        var r = Run("RNN", [Attr.String("direction", "bidirectional")], 2, RnnX,
            F([1, 1], 2, 1, 1), F([.5f, .5f], 2, 1, 1), null, Lens);
        Assert.Equal([3, 2, 2, 1], r[0].Shape.ToArray());
        // Y[t=0] = (forward b0, forward b1, reverse b0, reverse b1).
        AssertClose([0.09966799f, 0.37994896f, 0.26014028f, 0.55878070f], F(r[0].ToArray<float>()[..4], 4));
        AssertClose([0.39893466f, 0.59796561f, 0.26014028f, 0.55878070f], r[1]);
    }

    [Fact]
    public void BatchFirstLayoutTransposesInputsAndOutputs()
    {
        // The same data as RnnX with batch first: (2, 3, 1).
        var x = F([.1f, .2f, .3f, .4f, .5f, 9f], 2, 3, 1);
        var r = Run("RNN", [Attr.Int("layout", 1)], 2, x, RnnW, RnnR, null, Lens);
        Assert.Equal([2, 3, 1, 1], r[0].Shape.ToArray());
        AssertClose([0.09966799f, 0.24476261f, 0.39893466f, 0.37994896f, 0.59796561f, 0], r[0]);
        Assert.Equal([2, 1, 1], r[1].Shape.ToArray());
        AssertClose([0.39893466f, 0.59796561f], r[1]);
    }

    [Fact]
    public void ActivationsAndClipAreHonoured()
    {
        // Relu with clip 0.25: h1 = min(.1, .25) = .1 → h2 = clip(.2 + .05) = .25 → h3 = clip(.3 + .125) = .25.
        var x = F([.1f, .2f, .3f], 3, 1, 1);
        var r = Run("RNN", [Attr.Strings("activations", ["Relu"]), Attr.Float("clip", .25f)], 2, x, RnnW, RnnR);
        AssertClose([.1f, .25f, .25f], r[0]);
    }

    [Fact]
    public void BadActivationIsRejected()
    {
        Assert.ThrowsAny<LoomException>(() => Run("RNN", [Attr.Strings("activations", ["Swish"])], 2, X1, RnnW, RnnR));
    }
}
