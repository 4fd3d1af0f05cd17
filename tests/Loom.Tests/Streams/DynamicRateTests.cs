namespace Loom.Tests.StreamTests;

/// <summary>
/// Programs with dynamic rates ('*' and ranges) run demand-driven, against outputs worked out by hand from what
/// each program does (the files are in Programs/, each with a comment saying what it computes).
/// </summary>
public class DynamicRateTests
{
    internal static string Program(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Streams", "Programs", name));

    internal static string[] Run(string name, int lines, int cores) =>
        StreamHarness.Run([new Loom.Streams.Syntax.SourceFile(name, Program(name))], lines, cores);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RunLengthDecoderPushesADynamicNumberOfItems(int cores)
    {
        // Pair j of the source is (j % 4, j); decoded, block b = 4t+1 .. 4t+3 gives b, b+1, b+1, b+2, b+2, b+2
        // (value 4t has count 0), so the pair sums of block t are 2b+1, 2b+3, 2b+4.
        var lines = Run("RunLength.str", 300, cores);
        Assert.Equal(["3", "5", "6", "11", "13", "14", "19", "21", "22"], lines[..9]);
        for (int i = 0; i < 300; i++)
        {
            int b = 4 * (i / 3) + 1;
            Assert.Equal((2 * b + new[] { 1, 3, 4 }[i % 3]).ToString(System.Globalization.CultureInfo.InvariantCulture), lines[i]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void PacketSummerPopsADynamicNumberOfItems(int cores)
    {
        // Packet k has length k % 4 and carries the next integers in a row: lengths 0, 1, 2, 3 take 6 integers per
        // cycle c, so the packets of cycle c sum to 0, 6c+1, (6c+2)+(6c+3), (6c+4)+(6c+5)+(6c+6).
        var lines = Run("Packets.str", 400, cores);
        Assert.Equal(["0", "0", "1", "1", "2", "5", "3", "15", "0", "0", "1", "7", "2", "17", "3", "33"], lines[..16]);
        for (int k = 0; k < 200; k++)
        {
            long c = k / 4, n = k % 4, first = 6 * c + (n == 0 ? 0 : n == 1 ? 1 : n == 2 ? 2 : 4);
            long sum = 0;
            for (int i = 0; i < n; i++) sum += first + i;
            Assert.Equal(n.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[2 * k]);
            Assert.Equal(sum.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[2 * k + 1]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DynamicBranchOfASplitJoinRunsActorByActor(int cores)
    {
        // duplicate into Identity and Double, joined one by one: i, 2i for i = 0, 1, 2, ...
        var lines = Run("DynamicBranch.str", 200, cores);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[2 * i]);
            Assert.Equal((2 * i).ToString(System.Globalization.CultureInfo.InvariantCulture), lines[2 * i + 1]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AFailureUpstreamOfTheDynamicQueueNamesTheFilter(int cores)
    {
        // At 2 cores Src and Decode run on a thread of their own, ahead of the printer: their failure still
        // reaches the caller as the same error, naming the filter.
        var e = Assert.Throws<StreamException>(() => StreamHarness.Run("""
            void->void pipeline P { add Src(); add Decode(); add Sink(); }
            void->int filter Src { int i; work push 1 { push(i); i++; } }
            int->int filter Decode { work pop 1 push * { int v = pop(); push(1000 / (5000 - v)); } }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """, 100_000, cores));
        Assert.Contains("Decode", e.Message);
        Assert.Contains("DivideByZero", e.Message);
    }

    [Fact]
    public void TwoCoresCutAtTheQueueBetweenTheRegions()
    {
        var p = Loom.Streams.Execution.StreamProgram.Compile([new Loom.Streams.Syntax.SourceFile("RunLength.str", Program("RunLength.str"))],
            new Loom.Streams.Execution.Printer(new StringWriter(), 10));
        var cut = Loom.Streams.Execution.DynamicSplit.FindCut(p);
        Assert.NotNull(cut);
        Assert.Equal("Decode -> Pairs", cut.Value.Cut.ToString());
        // Nothing is cut where the upstream part would print: its lines could not keep the sequential order.
        var printing = Loom.Streams.Execution.StreamProgram.Compile([new Loom.Streams.Syntax.SourceFile("t.str", """
            void->void pipeline P { add Src(); add Sink(); }
            void->int filter Src { int i; work push * { println(i); push(i); i++; } }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """)], new Loom.Streams.Execution.Printer(new StringWriter(), 10));
        Assert.Null(Loom.Streams.Execution.DynamicSplit.FindCut(printing));
    }

    [Fact]
    public void DynamicProgramsAreSplitIntoStaticRegions()
    {
        var p = Loom.Streams.Execution.StreamProgram.Compile([new Loom.Streams.Syntax.SourceFile("RunLength.str", Program("RunLength.str"))],
            new Loom.Streams.Execution.Printer(new StringWriter(), 10));
        // Src -> Decode is static (Decode pops 2), Decode -> Pairs is the dynamic queue: two regions.
        var region = Loom.Streams.Execution.DynamicRunner.RegionsOf(p.Flat);
        var byName = p.Flat.Actors.ToDictionary(a => a.Name, a => region[a.Index]);
        Assert.Equal(byName["Src"], byName["Decode"]);
        Assert.Equal(byName["Pairs"], byName["IntPrinter"]);
        Assert.NotEqual(byName["Src"], byName["Pairs"]);
        Assert.Single(p.Flat.Edges, e => e.Dynamic);
        // Each region is normalised on its own: Src and Decode once, Pairs once, IntPrinter once.
        Assert.All(p.Flat.Actors, a => Assert.Equal(1L, p.Demand!.Repetitions[a.Index]));
    }
}
