using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// <see cref="StreamProgram.Trace"/>: a traced run records every fused unit once, on the track of the core that ran
/// it (sources and sinks in unit order under unit alternation), and prints exactly what an untraced one-core run prints.
/// </summary>
public sealed class StreamTraceTests
{
    // A stateful source, stateless work, a split-join and a stateful sink (UnitAlternationTests' program).
    private const string Program = UnitAlternationTests.Handed;


    private static (string Output, RunTrace Trace) Run(int cores, ParallelMode mode, long iterations, bool trace) => Run(cores, mode, iterations, trace, false, out _);

    private static (string Output, RunTrace Trace) Run(int cores, ParallelMode mode, long iterations, bool trace, bool claim, out StreamProgram used)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = StreamProgram.Compile([new SourceFile("p.str", Program)], new Printer(sw, int.MaxValue));
        p.Mode = mode;
        p.ClaimUnits = claim;
        var t = new RunTrace();
        if (trace) p.Trace = t;
        used = p;
        p.Run(cores, iterations); // counts the original's steady states when the program runs split (fission)
        return (sw.ToString(), t);
    }

    [Theory]
    [InlineData(1, ParallelMode.Auto, false)]
    [InlineData(2, ParallelMode.Alternate, false)]
    [InlineData(2, ParallelMode.Alternate, true)]
    [InlineData(2, ParallelMode.Pipeline, false)]
    public void EveryUnitOnceAndTheSameOutput(int cores, ParallelMode mode, bool claim)
    {
        const long iterations = 20_000;
        var (expected, _) = Run(1, ParallelMode.Auto, iterations, trace: false);
        var (output, trace) = Run(cores, mode, iterations, trace: true, claim, out var used);
        Assert.Equal(expected, output);
        var units = trace.Events.Where(e => e.OpType == "unit").ToList();
        Assert.NotEmpty(units);
        Assert.All(trace.Events, e => Assert.InRange(e.Worker, 0, cores - 1));
        // Cores claiming units take them as they come (one core may take them all when the other's thread starts late
        // on a busy machine): there the mode is what is checked.
        if (cores > 1 && !claim) Assert.True(units.Select(e => e.Worker).Distinct().Count() == cores, used.LastPartition?.Mode);
        if (mode == ParallelMode.Alternate) Assert.StartsWith("unit alternation", used.LastPartition?.Mode);
        if (mode == ParallelMode.Pipeline)
        {
            // Every piece runs every unit: each unit number once per track.
            foreach (var track in units.GroupBy(e => e.Worker))
                Assert.Equal(track.Select(e => e.Node).Distinct().Count(), track.Count());
            return;
        }
        // Alone or alternating, each unit runs once, on core unit mod cores (or the core that claimed it), which also
        // runs its sources and sinks; sources and sinks in unit order.
        static long Number(RunTrace.Event e) => long.Parse(e.Node.Split(' ')[1], CultureInfo.InvariantCulture);
        var numbers = units.Select(Number).Order().ToList();
        Assert.Equal(Enumerable.Range(0, numbers.Count).Select(i => (long)i), numbers);
        var core = units.ToDictionary(Number, e => e.Worker);
        if (!claim) Assert.All(units, e => Assert.Equal(Number(e) % cores, e.Worker));
        if (cores > 1)
            foreach (var group in new[] { "sources", "sinks" })
            {
                var spans = trace.Events.Where(e => e.OpType == group).OrderBy(e => e.StartMicroseconds).ToList();
                Assert.Equal(numbers.Count, spans.Count);
                Assert.Equal(spans.Select(e => e.Node).ToList(), Enumerable.Range(0, spans.Count).Select(i => $"{group} {i}").ToList());
                Assert.All(spans, e => Assert.Equal(core[Number(e)], e.Worker));
            }
    }
}
