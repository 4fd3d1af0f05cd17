using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Scheduling;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// The fused runtime cut into one piece per core: the cut respects every edge, feedback loop and printer, and
/// a run long enough to cycle the arena copies many times prints what one core prints, with a peeking filter
/// reading across the cut (items kept on an edge between units) and a fissed stateless filter.
/// </summary>
public class FusedPipelineTests
{
    // Src → Heavy (stateless, fissed at 2+ cores) → Win (peeks 3 beyond its pop, so its input keeps items between
    // units) → a split-join whose joiner is compiled to a table → Acc (stateful) → Print.
    private const string Chain = """
        void->void pipeline P {
          add Src();
          add Heavy(7);
          add Win();
          add splitjoin { split roundrobin(2, 1); add Heavy(3); add Neg(); join roundrobin(2, 1); };
          add Acc();
          add Print();
        }
        void->int stateful filter Src { int x; work push 1 { x = x * 1103515245 + 12345; push(x >> 8); } }
        int->int filter Heavy(int k) { work pop 1 push 1 { int v = pop(); for (int i = 0; i < 40; i++) v = v * 31 + k; push(v); } }
        int->int filter Win { work pop 1 peek 4 push 1 { push(peek(0) - peek(1) + peek(2) ^ peek(3)); pop(); } }
        int->int filter Neg { work pop 1 push 1 { push(-pop()); } }
        int->int stateful filter Acc { int s; work pop 1 push 1 { s = s * 3 + pop(); push(s); } }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    private static string Run(string src, int cores, int lines, out StreamProgram used)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = StreamProgram.Compile([new SourceFile("p.str", src)], new Printer(sw, lines));
        p.Mode = ParallelMode.Pipeline; // the cut itself is tested here (UnitAlternationTests test the other mode)
        used = p;
        if (cores == 1) p.Run(1, long.MaxValue);
        else
        {
            (used, var plan) = p.PrepareParallel(cores);
            used.RunParallel(cores, long.MaxValue, plan);
        }
        return sw.ToString();
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void PiecesPrintWhatOneCorePrints(int cores)
    {
        const int lines = 40_000;
        var seq = Run(Chain, 1, lines, out _);
        Assert.Equal(lines, seq.Count(c => c == '\n'));
        Assert.Equal(seq, Run(Chain, cores, lines, out var used));
        // The fused pipeline ran, and its cut gave work to more than one core.
        var part = used.LastPartition!;
        Assert.True(part.Core.Distinct().Count() > 1, "every actor on one core");
        AssertValidCut(used.Flat, part);
    }

    [Fact]
    public void CutKeepsFeedbackLoopsAndPrintersTogether()
    {
        // Two printers on different branches and a feedback loop (ParallelTests' program): the printers and what
        // lies between them share a piece, and so does the loop.
        var p = StreamProgram.Compile([new SourceFile("p.str", ParallelTests.Program)], new Printer(null));
        var plan = FusedPlan.Make(p.Flat, p.Schedule, 1)!;
        var work = p.Flat.Actors.Select(a => a.Name.StartsWith("Heavy", StringComparison.Ordinal) ? 10.0 : 1.0).ToArray();
        var piece = FusedPipeline.Cut(p.Flat, plan, work, 2);
        var part = new Partition { Cores = 2, Core = piece, Stage = piece, Work = work };
        AssertValidCut(p.Flat, part);
        Assert.Single(p.Flat.Actors.Where(a => a.FeedbackLoop == "Fib").Select(a => piece[a.Index]).Distinct());
        Assert.Single(p.Flat.Actors.Where(a => a.Name is "Tap" or "Sink").Select(a => piece[a.Index]).Distinct());
        // Src and the heavy filter come before the first printer, so the cut can put them on the first core.
        Assert.Equal(0, piece[p.Flat.Actors.Single(a => a.Name == "Src").Index]);
        Assert.Equal(1, piece[p.Flat.Actors.Single(a => a.Name == "Sink").Index]);
    }

    private static void AssertValidCut(FlatGraph g, Partition part)
    {
        foreach (var e in g.Edges)
            Assert.True(part.Core[e.Src.Index] <= part.Core[e.Dst.Index], $"{e} goes back from core {part.Core[e.Src.Index]} to {part.Core[e.Dst.Index]}");
    }
}
