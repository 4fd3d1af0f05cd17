using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Scheduling;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Programs with several printers in fused units of several steady states (<see cref="PrintOrder"/>): the actors no
/// printer feeds run the unit's steady states first, the printers' tail one steady state at a time, and the lines
/// keep the order of single steady states — against hand-worked lines, on run lengths that are not whole units.
/// </summary>
public class PrintOrderTests
{
    // Like BeamFormer: two filters that print and push inside a splitjoin, then a printing sink. Avg (a peek, so
    // the head keeps an item between units) feeds a(i) = i + (i + 1) to both taps.
    private const string TwoTaps = """
        void->void pipeline P {
          add Src();
          add Avg();
          add splitjoin { split duplicate; add Tap(1); add Tap(2); join roundrobin; };
          add Sink();
        }
        void->int stateful filter Src { int i = 0; work push 1 { push(i); i++; } }
        int->int filter Avg { work pop 1 peek 2 push 1 { push(peek(0) + peek(1)); pop(); } }
        int->int filter Tap(int k) { work pop 1 push 1 { int v = pop(); println(k * 1000 + v); push(v * k); } }
        int->void filter Sink { work pop 1 { println(pop()); } }
        """;

    private static IEnumerable<string> Expected(long steadyStates)
    {
        for (long i = 0; i < steadyStates; i++)
        {
            long a = 2 * i + 1;
            foreach (long v in new[] { 1000 + a, 2000 + a, a, 2 * a }) yield return v.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static StreamProgram Compile(string source, TextWriter output) =>
        StreamProgram.Compile([new SourceFile("test.str", source)], new Printer(output, int.MaxValue));

    [Fact]
    public void TwoPrintersGetUnitsOfSeveralSteadyStates()
    {
        var p = Compile(TwoTaps, TextWriter.Null);
        Assert.True(FusedRunner.UnitsFor(p.Flat, p.Schedule) > 1);
        var tail = PrintOrder.Tail(p.Flat, p.Schedule);
        Assert.NotNull(tail);
        // The tail: both taps, the joiner and the sink; the head: the source, Avg and the splitter.
        Assert.Equal(["Src", "Avg"], p.Flat.Actors.Where(a => !tail[a.Index] && a.Filter is not null).Select(a => a.Filter!.Symbol.Name));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(37)]
    [InlineData(203)]
    public void LinesKeepTheSteadyStatesOrder(long steadyStates)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = Compile(TwoTaps, sw);
        p.RunSequential(steadyStates);
        Assert.Equal(Expected(steadyStates), sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(ParallelMode.Pipeline)]
    [InlineData(ParallelMode.Auto)]
    public void LinesKeepTheSteadyStatesOrderOnTwoCores(ParallelMode mode)
    {
        var lines = StreamHarness.Run([new SourceFile("test.str", TwoTaps)], 4 * 500, cores: 2, mode: mode);
        Assert.Equal(Expected(500), lines);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public void PlanFiresThePrintersAsSingleSteadyStatesDo(int units)
    {
        var p = Compile(TwoTaps, TextWriter.Null);
        static List<int> Printers(IEnumerable<Firing> steps) => steps.Where(f => f.Actor.Filter is { Symbol.PrintsInWork: true })
            .SelectMany(f => Enumerable.Repeat(f.Actor.Index, f.Count)).ToList();
        var one = Printers(FusedPlan.Make(p.Flat, p.Schedule, 1)!.Steps);
        var many = Printers(FusedPlan.Make(p.Flat, p.Schedule, units)!.Steps);
        Assert.Equal(Enumerable.Repeat(one, units).SelectMany(x => x), many);
    }

    [Fact]
    public void OnePrinterHasNoTail()
    {
        const string source = """
            void->void pipeline P { add Src(); add Sink(); }
            void->int stateful filter Src { int i = 0; work push 1 { push(i); i++; } }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """;
        var p = Compile(source, TextWriter.Null);
        Assert.Null(PrintOrder.Tail(p.Flat, p.Schedule));
    }
}
