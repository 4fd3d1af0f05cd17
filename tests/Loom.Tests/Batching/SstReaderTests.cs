using Loom.Dynamic;
using Loom.Dynamic.Data;

namespace Loom.Tests.BatchingTests;

/// <summary>The SST reader against the README's example and hand-made malformed lines.</summary>
public class SstReaderTests
{
    [Fact]
    public void ParsesTheReadmeExampleInPostOrder()
    {
        var t = SstReader.Parse("(2 (3 (3 Effective) (2 but)) (1 (1 too-tepid) (2 biopic)))");
        Assert.Equal(7, t.Count);
        Assert.Equal(4, t.LeafCount);
        Assert.Equal(["Effective", "but", null, "too-tepid", "biopic", null, null], t.Words);
        Assert.Equal([3, 2, 3, 1, 2, 1, 2], t.Labels.Select(b => (int)b));
        Assert.Equal(2, t.Left[t.Root]);
        Assert.Equal(5, t.Right[t.Root]);
        Assert.Equal(3, t.Heights()[t.Root]);
    }

    [Fact]
    public void AWordMayHoldANoBreakSpace()
    {
        var t = SstReader.Parse("(2 8\u00a01\\/2)");
        Assert.Equal("8\u00a01\\/2", t.Words[0]);
    }

    [Theory]
    [InlineData("(2 (3 a) (2 b)", "expected ')' but the line ends")]
    [InlineData("(5 a)", "expected a label 0-4")]
    [InlineData("(2 (3 a))", "single child")]
    [InlineData("(2 (3 a) (2 b) (1 c))", "more than two children")]
    [InlineData("(2 a) x", "unexpected text")]
    [InlineData("(2 )", "expected a word")]
    public void MalformedLinesNameTheirLineAndColumn(string line, string message)
    {
        var path = Path.Combine(Path.GetTempPath(), $"loom-sst-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "(2 (3 a) (2 b))\n(1 c)\n" + line + "\n");
        try
        {
            var e = Assert.Throws<DataFormatException>(() => SstReader.ReadFile(path));
            Assert.Equal(3, e.Line);
            Assert.StartsWith($"{Path.GetFileName(path)}:3:", e.Message);
            Assert.Contains(message, e.Message);
            Assert.IsAssignableFrom<LoomException>(e);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TheFirst1024TrainTreesMatchTheRivalsFigures()
    {
        var path = SharedData.Require("data", "sst", "train.txt");
        var trees = SstReader.ReadFile(path, 1024);
        var vocab = Vocabulary.Build(trees);
        Assert.Equal(5200, vocab.Count);
        Assert.Equal(["The", "Rock", "is", "destined"], Enumerable.Range(0, 4).Select(i => vocab[i]));
        Assert.Equal(40334, trees.Sum(t => t.Count));
        Assert.Equal(20679, trees.Sum(t => t.LeafCount));
    }

    [Fact]
    public void ShuffleIsAPermutationDrivenBySplitMix()
    {
        var order = InputOrder.Shuffle(1000, 1);
        Assert.Equal(Enumerable.Range(0, 1000), order.Order());
        // The last swap partner is the first SplitMix64(1) output modulo N (Vigna's reference value).
        // From the identity, position 999 receives position j = 0x910a2dec89025cc1 % 1000 = 465.
        Assert.Equal(465, order[999]);
    }
}
