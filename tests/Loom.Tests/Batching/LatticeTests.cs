using Loom.Dynamic;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Tests.BatchingTests;

/// <summary>The lattice reader (README example, malformed files) and the lattice GRU under every policy.</summary>
public class LatticeTests
{
    // The README's first train lattice, then a second, smaller one.
    private const string Text = "2\n13\n0 3 3 3 3 3 3 3 3 3 3 3 3\n0 \n1 0 232\n2 1 341 0 916\n2 2 37 1 4183\n1 3 891\n1 4 6\n2 5 775 4 10085\n1 6 119\n1 7 611\n2 8 925 7 1965\n1 9 20\n2 10 477 9 10086\n1 11 734\n\n"
                              + "4\n0 7 8 9\n0 \n1 0 5\n2 1 6 0 300\n2 2 7 1 301\n\n";

    [Fact]
    public void ReadsTheReadmeExample()
    {
        var lats = LatticeReader.Parse(Text, "t.txt");
        Assert.Equal(2, lats.Count);
        var l = lats[0];
        Assert.Equal(13, l.NodeCount);
        Assert.Equal(17, l.ArcCount);
        // Node 2: a character arc from node 1 (341) and a word arc from node 0 (916); ids reduced mod 256.
        Assert.Equal([1, 0], l.ArcFrom[l.ArcStart[2]..l.ArcStart[3]]);
        Assert.Equal([341 % 256, 916 % 256], l.ArcToken[l.ArcStart[2]..l.ArcStart[3]]);
        Assert.True(l.IsCharArc(2, l.ArcStart[2]));
        Assert.False(l.IsCharArc(2, l.ArcStart[2] + 1));
        Assert.Equal(18, lats[1].Line); // after 2 header lines, 1 tag line, 13 node lines and a blank line
    }

    [Theory]
    [InlineData("1\n3\n0 1 1\n0 \n1 0 5\n1 2 6\n", 6, "comes from node 2")]
    [InlineData("1\n3\n0 1 1\n0 \n1 0 5\n0 \n", 6, "no incoming arc")]
    [InlineData("1\n3\n0 1 x\n", 3, "found 'x'")]
    [InlineData("1\n3\n0 1 1\n0 \n1 0\n", 5, "file ends")]
    public void MalformedLatticesNameTheirLine(string text, int line, string message)
    {
        var e = Assert.Throws<DataFormatException>(() => LatticeReader.Parse(text, "bad.txt"));
        Assert.Equal(line, e.Line);
        Assert.StartsWith($"bad.txt:{line}", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData(BatchingPolicy.Depth)]
    [InlineData(BatchingPolicy.Agenda)]
    [InlineData(BatchingPolicy.Fsm)]
    public void EveryPolicyGivesTheUnbatchedValues(BatchingPolicy policy)
    {
        var lats = LatticeReader.Parse(Text, "t.txt");
        var m = new LatticeGru(16, 10);
        var stats = PolicyParity.Check((g, states) => m.BuildForward(g, lats, states), policy);
        if (policy == BatchingPolicy.Fsm) Assert.True(stats.KernelCalls <= stats.LowerBound * 1.05, $"{stats.KernelCalls} calls, lower bound {stats.LowerBound}");
    }
}
