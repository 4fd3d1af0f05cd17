using Loom.IR;

namespace Loom.Tests.IRTests;

public sealed class DimTests
{
    private static readonly Dim Batch = Dim.Symbol("batch"), Seq = Dim.Symbol("seq"), H = Dim.Symbol("h");

    [Fact]
    public void KnownArithmeticFolds()
    {
        Assert.Equal(Dim.Of(7), Dim.Of(3) + 4);
        Assert.Equal(Dim.Of(-2), Dim.FloorDiv(-3, 2)); // floor, not truncation
        Assert.Equal(Dim.Of(1), Dim.Mod(-3, 2));
        Assert.Equal(Dim.Of(3), Dim.CeilDiv(5, 2));
    }

    [Fact]
    public void CanonicalFormMakesEqualExpressionsEqual()
    {
        Assert.Equal(Seq * 2, Seq + Seq);
        Assert.Equal(Batch * Seq, Seq * Batch);
        Assert.Equal(Batch, (Batch + 3) - 3);
        Assert.Equal(Dim.Zero, Batch - Batch);
        Assert.NotEqual(Batch, Seq);
        Assert.Equal((Batch + 1) * (Batch + 1), Batch * Batch + Batch * 2 + 1);
    }

    [Fact]
    public void PrintsCompactText()
    {
        Assert.Equal("seq*2", (Seq * 2).ToString());
        Assert.Equal("(h-3)/2+1", (Dim.FloorDiv(H - 3, 2) + 1).ToString());
        Assert.Equal("batch*seq", (Seq * Batch).ToString());
        Assert.Equal("max(batch,seq)", Dim.Max(Seq, Batch).ToString());
    }

    [Fact]
    public void DivisionSimplifiesWhenExact()
    {
        Assert.Equal(Seq, Dim.FloorDiv(Seq * 4, 4));
        Assert.Equal(Seq * 2 + 1, Dim.FloorDiv(Seq * 4 + 2, 2));
        Assert.Equal(Seq + Dim.FloorDiv(H, 2), Dim.FloorDiv(Seq * 2 + H, 2));
        Assert.Equal(Dim.Zero, Dim.Mod(Seq * 6, 3));
        Assert.Equal(Dim.One, Dim.FloorDiv(Batch * Seq, Batch * Seq));
    }

    [Fact]
    public void MaxAndMinDecideWhenTheDifferenceIsKnown()
    {
        Assert.Equal(Seq + 2, Dim.Max(Seq, Seq + 2));
        Assert.Equal(Seq, Dim.Min(Seq, Seq + 2));
    }

    [Theory]
    [InlineData("(h-3)/2+1", 11, 5)]
    [InlineData("seq*2", 7, 14)]
    [InlineData("max(h,4)%3", 10, 1)]
    [InlineData("-h+20", 5, 15)]
    public void ParsesAndEvaluates(string text, long h, long expected)
    {
        var d = Dim.Parse(text.Replace("seq", "h"));
        Assert.Equal(expected, d.Evaluate(new Dictionary<string, long> { ["h"] = h }));
    }

    [Fact]
    public void ParseRoundTripsPrintedForm()
    {
        foreach (var d in new[] { Seq * 2, Dim.FloorDiv(H - 3, 2) + 1, Dim.Max(Seq, Batch) * 3, Dim.Mod(Batch + 5, 4) })
            Assert.Equal(d, Dim.Parse(d.ToString()));
    }

    [Fact]
    public void UnboundSymbolsLeaveEvaluationOpen()
    {
        Assert.Null((Seq + Batch).Evaluate(new Dictionary<string, long> { ["seq"] = 3 }));
        Assert.Equal(Batch + 3, (Seq + Batch).Substitute(s => s == "seq" ? Dim.Of(3) : null));
    }

    [Fact]
    public void OddSymbolNamesAreQuotedAndSurviveParsing()
    {
        var d = Dim.Symbol("p2o.DynamicDimension.0") + Dim.Symbol("a b");
        Assert.Equal(d, Dim.Parse(d.ToString()));
    }
}
