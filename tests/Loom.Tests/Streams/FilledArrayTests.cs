using System.Globalization;
using Loom.Streams.CodeGen;
using Loom.Streams.Execution;
using Loom.Streams.Semantics;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// A fixed local array's clear at its declaration (Java's fresh zeroed array; the storage is kept between firings)
/// is left out only when every element read was written since the declaration (<c>FilledInOrder</c>: RadixSort's
/// <c>ordering</c>, filled by <c>a[j] = x; j = j + 1;</c> and read below <c>j</c>). Each program fires its filter
/// many times, so a clear left out wrongly reads the previous firing's elements instead of zeros; the expected
/// lines are computed here from the program's meaning.
/// </summary>
public class FilledArrayTests
{
    // Src pushes x0 = 0, x(k+1) = (13 x(k) + 5) mod 23; S pops 8 at a time.
    private const string Template = """
        void->void pipeline P { add Src(); add S(); add Print(); }
        void->int stateful filter Src { int x = 0; work push 1 { push(x); x = (x * 13 + 5) % 23; } }
        int->int filter S {
          work pop 8 push PUSH {
            int[9] odd;
            DECLS
            for (int i = 0; i < 8; i++) {
              int c = pop();
              FIRST
              if ((c & 1) == 1) { WRITE }
            }
            READ
          }
        }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    private static string Program(string push, string decls, string first, string write, string read) =>
        Template.Replace("PUSH", push).Replace("DECLS", decls).Replace("FIRST", first).Replace("WRITE", write).Replace("READ", read);

    /// <summary>The evens of each block of 8 in order, then its odds in order (RadixSort's step).</summary>
    private static readonly string Partition = Program("8", "int j = 0;", "if ((c & 1) == 0) push(c);", "odd[j] = c; j = j + 1;",
        "for (int i = 0; i < j; i++) push(odd[i]);");

    private static List<int[]> Blocks(int count)
    {
        var blocks = new List<int[]>();
        int x = 0;
        for (int b = 0; b < count; b++)
        {
            var block = new int[8];
            for (int i = 0; i < 8; i++) { block[i] = x; x = (x * 13 + 5) % 23; }
            blocks.Add(block);
        }
        return blocks;
    }

    private static bool Decided(string source)
    {
        var p = StreamProgram.Compile([new SourceFile("test.str", source)], new Printer(new StringWriter(), 1));
        var body = p.Flat.Actors.First(a => a.Filter?.Symbol.Name == "S").Filter!.Symbol.Work!.Body;
        var odd = BoundWalker.Nodes(body).OfType<BVarDecl>().First(d => d.Symbol.Name == "odd").Symbol;
        return FilledInOrder.Holds(odd, body);
    }

    private static void AssertPrints(string source, Func<int[], IEnumerable<int>> firing, int blocks = 40)
    {
        var expected = Blocks(blocks).SelectMany(firing).Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray();
        foreach (bool fuse in new[] { true, false })
            Assert.Equal(expected, StreamHarness.RunSequential(source, expected.Length, fuse));
        Assert.Equal(expected, StreamHarness.Run(source, expected.Length, cores: 2));
    }

    [Fact]
    public void AListFilledInOrderAndReadBelowItsCountNeedsNoClear()
    {
        Assert.True(Decided(Partition));
        AssertPrints(Partition, b => b.Where(v => v % 2 == 0).Concat(b.Where(v => v % 2 == 1)));
    }

    [Theory]
    [InlineData("j++;")]
    [InlineData("++j;")]
    [InlineData("j += 1;")]
    [InlineData("j = 1 + j;")]
    public void EveryFormOfTheIncrementIsRecognised(string increment)
    {
        var source = Partition.Replace("j = j + 1;", increment);
        Assert.NotEqual(Partition, source);
        Assert.True(Decided(source));
        AssertPrints(source, b => b.Where(v => v % 2 == 0).Concat(b.Where(v => v % 2 == 1)));
    }

    [Fact]
    public void ReadingPastTheCountKeepsTheClear()
    {
        // All 8 elements are read after only the odd ones were written: the rest must be Java's zeros, not the
        // odds of the previous firing.
        var source = Program("16", "int j = 0;", "push(c);", "odd[j] = c; j = j + 1;", "for (int i = 0; i < 8; i++) push(odd[i]);");
        Assert.False(Decided(source));
        AssertPrints(source, b => b.Concat(b.Where(v => v % 2 == 1)).Concat(Enumerable.Repeat(0, 8 - b.Count(v => v % 2 == 1))));
    }

    [Fact]
    public void ReadingOneAheadKeepsTheClear()
    {
        // Elements 1 … j are read after 0 … j − 1 were written: element j is a zero, or what an earlier firing
        // with more odds left there if the clear were left out.
        var source = Program("8", "int j = 0;", "if ((c & 1) == 0) push(c);", "odd[j] = c; j = j + 1;", "for (int i = 0; i < j; i++) push(odd[i + 1]);");
        Assert.False(Decided(source));
        AssertPrints(source, b => b.Where(v => v % 2 == 0).Concat(b.Where(v => v % 2 == 1).Skip(1)).Concat(b.Any(v => v % 2 == 1) ? [0] : []));
    }

    [Fact]
    public void AnExtraIncrementKeepsTheClear()
    {
        // One more count than writes: the last element read was never written in this firing.
        var source = Program("9", "int j = 0;", "if ((c & 1) == 0) push(c);", "odd[j] = c; j = j + 1;",
            "j = j + 1; for (int i = 0; i < j; i++) push(odd[i]);");
        Assert.False(Decided(source));
        AssertPrints(source, b => b.Where(v => v % 2 == 0).Concat(b.Where(v => v % 2 == 1)).Append(0));
    }

    [Fact]
    public void ACountNotResetAfterTheDeclarationKeepsTheClear()
    {
        // j declared before the array: the shape wants it declared (= 0) after, in the same block.
        var source = Program("8", "", "if ((c & 1) == 0) push(c);", "odd[j] = c; j = j + 1;", "for (int i = 0; i < j; i++) push(odd[i]);")
            .Replace("int[9] odd;", "int j = 0; int[9] odd;");
        Assert.False(Decided(source));
        AssertPrints(source, b => b.Where(v => v % 2 == 0).Concat(b.Where(v => v % 2 == 1)));
    }

    [Fact]
    public void AReadLoopThatMovesItsBoundKeepsTheClear()
    {
        // The read loop raises j itself, so i < j at the test no longer bounds the read by the writes.
        var source = Program("16", "int j = 0; int n = 0;", "push(c);", "odd[j] = c; j = j + 1;",
            "for (int i = 0; i < j; i++) { push(odd[i]); n = n + 1; if (j < 8) j = j + 1; } for (int k = n; k < 8; k++) push(-1);");
        Assert.False(Decided(source));
        AssertPrints(source, b =>
        {
            int odds = b.Count(v => v % 2 == 1);
            var read = b.Where(v => v % 2 == 1).Concat(Enumerable.Repeat(0, odds == 0 ? 0 : 8 - odds));
            return b.Concat(read).Concat(Enumerable.Repeat(-1, 8 - read.Count()));
        });
    }
}
