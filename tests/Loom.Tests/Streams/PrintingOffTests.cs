using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Printing off, compiled code folds every printed value into the checksum as <c>sum + (bits ^ line)</c> and counts
/// lines in locals (<c>CodeGen.LocalPrint</c>): the checksum and the count must be the fold of every value, by hand;
/// with a line limit the run must stop exactly there.
/// </summary>
public class PrintingOffTests
{
    private const string Program = """
        void->void pipeline P { add Src(); add Twice(); add Print(); }
        void->int stateful filter Src { int i = 0; work push 1 { push(i * 3 - 7); i++; } }
        int->int filter Twice { work pop 1 push 2 { int x = pop(); push(x); push(x * x); } }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    private static StreamProgram Compile(Printer printer, bool fuse)
    {
        var p = StreamProgram.Compile([new SourceFile("p.str", Program)], printer);
        p.Fuse = fuse;
        return p;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WithoutALimitEveryLineIsFoldedAndCounted(bool fuse)
    {
        var printer = new Printer(null);
        Assert.Equal(long.MaxValue, printer.MaxLines);
        const int steady = 5000;
        Assert.Equal(steady, Compile(printer, fuse).RunSequential(steady));
        ulong sum = 0;
        long line = 0;
        for (int i = 0; line < printer.Lines; i++)
        {
            int x = i * 3 - 7;
            foreach (int v in new[] { x, unchecked(x * x) })
                sum += (ulong)(long)v ^ (ulong)line++;
        }
        Assert.True(printer.Lines >= 2 * steady, $"{printer.Lines} lines");
        Assert.Equal(sum, printer.Checksum);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ALimitStillStopsTheRunThere(bool fuse)
    {
        var printer = new Printer(null, maxLines: 777);
        Compile(printer, fuse).RunSequential(100_000);
        Assert.Equal(777, printer.Lines);
    }
}
