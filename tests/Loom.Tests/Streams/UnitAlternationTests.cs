using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Unit alternation (every core runs the whole fused program for its own units): the output at 2 and 3 cores is
/// what one core prints, with a stateful source handed over in unit order, a stateful sink whose field goes from
/// core to core, and a peeking stateless filter whose kept items make its producers replicated; a printer that
/// pushes makes the mode decline; and the choice between it and the pipeline follows the work estimate.
/// </summary>
public class UnitAlternationTests
{
    // Src (stateful, no input) → Heavy → a split-join (joiner compiled to a table) → Count (a sink with a counter field).
    internal const string Handed = """
        void->void pipeline P {
          add Src();
          add Heavy(7);
          add splitjoin { split roundrobin(2, 1); add Heavy(3); add Neg(); join roundrobin(2, 1); };
          add Count();
        }
        void->int stateful filter Src { int x; work push 1 { x = x * 1103515245 + 12345; push(x >> 8); } }
        int->int filter Heavy(int k) { work pop 1 push 1 { int v = pop(); for (int i = 0; i < 40; i++) v = v * 31 + k; push(v); } }
        int->int filter Neg { work pop 1 push 1 { push(-pop()); } }
        int->void stateful filter Count { int n; work pop 1 { n = n + 1; println(n * 1000003 ^ pop()); } }
        """;

    // Win peeks 3 beyond its pop, so its input keeps items between units: Win's producers (Dup, Src) run on every core.
    private const string Peeking = """
        void->void pipeline P {
          add Src();
          add Dup();
          add Win();
          add Heavy(5);
          add Count();
        }
        void->int stateful filter Src { int x; work push 1 { x = x * 1103515245 + 12345; push(x >> 8); } }
        int->int filter Dup { work pop 1 push 2 { int v = pop(); push(v); push(v + 1); } }
        int->int filter Win { work pop 1 peek 4 push 1 { push(peek(0) - peek(1) + peek(2) ^ peek(3)); pop(); } }
        int->int filter Heavy(int k) { work pop 1 push 1 { int v = pop(); for (int i = 0; i < 40; i++) v = v * 31 + k; push(v); } }
        int->void stateful filter Count { int n; work pop 1 { n = n + 1; println(n * 1000003 ^ pop()); } }
        """;

    // Tap prints and pushes: its state cannot be handed over as a sink's, and replicating it would print twice.
    private const string PrintingMiddle = """
        void->void pipeline P {
          add Src();
          add Heavy(7);
          add Tap();
          add Heavy(3);
          add Sink();
        }
        void->int stateful filter Src { int x; work push 1 { x = x * 1103515245 + 12345; push(x >> 8); } }
        int->int filter Heavy(int k) { work pop 1 push 1 { int v = pop(); for (int i = 0; i < 40; i++) v = v * 31 + k; push(v); } }
        int->int stateful filter Tap { work pop 1 push 1 { int v = pop(); println(v); push(v); } }
        int->void stateful filter Sink { work pop 1 { println(pop()); } }
        """;

    private static string Run(string src, int cores, int lines, ParallelMode mode, out StreamProgram used)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = StreamProgram.Compile([new SourceFile("p.str", src)], new Printer(sw, lines));
        p.Mode = mode;
        used = p;
        if (cores == 1) p.Run(1, long.MaxValue);
        else
        {
            (used, var plan) = p.PrepareParallel(cores);
            used.RunParallel(cores, long.MaxValue, plan);
        }
        return sw.ToString();
    }

    private static string Role(StreamProgram p, string actor) => p.LastPartition!.Role![p.Flat.Actors.Single(a => a.Name == actor).Index];

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void SourceAndSinkHandedOverPrintWhatOneCorePrints(int cores)
    {
        const int lines = 40_000;
        var seq = Run(Handed, 1, lines, ParallelMode.Auto, out _);
        Assert.Equal(lines, seq.Count(c => c == '\n'));
        Assert.Equal(seq, Run(Handed, cores, lines, ParallelMode.Alternate, out var used));
        Assert.StartsWith("unit alternation", used.LastPartition!.Mode, StringComparison.Ordinal);
        Assert.Equal("source, in unit order", Role(used, "Src"));
        Assert.Equal("sink, in unit order", Role(used, "Count"));
        Assert.Equal("own units", Role(used, "Heavy"));
    }

    [Fact]
    public void PeekingFilterReplicatesItsProducers()
    {
        const int lines = 30_000;
        var seq = Run(Peeking, 1, lines, ParallelMode.Auto, out _);
        Assert.Equal(seq, Run(Peeking, 2, lines, ParallelMode.Alternate, out var used));
        Assert.Equal("replicated", Role(used, "Src"));
        Assert.Equal("replicated", Role(used, "Dup"));
        Assert.Equal("own units", Role(used, "Win"));
        Assert.Equal("sink, in unit order", Role(used, "Count"));
    }

    [Fact]
    public void PrinterThatPushesDeclinesTheMode()
    {
        const int lines = 20_000;
        var seq = Run(PrintingMiddle, 1, lines, ParallelMode.Auto, out _);
        Assert.Equal(seq, Run(PrintingMiddle, 2, lines, ParallelMode.Alternate, out var used));
        Assert.Contains("unit alternation declined: Tap prints", used.LastPartition!.Mode, StringComparison.Ordinal);
        Assert.Null(used.LastPartition.Role);
    }

    [Fact]
    public void ChoiceFollowsTheWorkEstimate()
    {
        var p = StreamProgram.Compile([new SourceFile("p.str", Handed)], new Printer(null));
        double[] Work(string heavy) => p.Flat.Actors.Select(a => a.Name == heavy ? 1e-6 : 1e-8).ToArray();
        // The work is in a stateless filter: each core does half of it, nothing crosses cores.
        var stateless = AlternationChoice.Decide(p.Flat, p.Schedule, Work("Heavy"), 2, ParallelMode.Auto);
        Assert.True(stateless.Alternate, stateless.Reason);
        // The work is in the source, which runs one unit after another: alternation cannot beat one core.
        var source = AlternationChoice.Decide(p.Flat, p.Schedule, Work("Src"), 2, ParallelMode.Auto);
        Assert.False(source.Alternate, source.Reason);
        Assert.StartsWith("pipeline: ", source.Reason, StringComparison.Ordinal);
        // Turned off.
        Assert.False(AlternationChoice.Decide(p.Flat, p.Schedule, Work("Heavy"), 2, ParallelMode.Pipeline).Alternate);
    }
}
