using Loom.Streams.Execution;
using Loom.Streams.Graph;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Fusion as before/after text: the stream graph (<see cref="GraphText"/>) and the fused one-core program of units
/// of two steady states (<see cref="FusedPlanText"/>), worked out by hand — a duplicate splitter whose copies read the
/// source's buffer in place, a round-robin joiner read through a table, both left with no code.
/// </summary>
public sealed class FusedPlanTextTests
{
    private const string Program = """
        void->void pipeline P { add Src(); add splitjoin { split duplicate; add Neg(); add Neg(); join roundrobin(1, 1); }; add Sink(); }
        void->int stateful filter Src { int x; work push 1 { x = x + 1; push(x); } }
        int->int filter Neg { work pop 1 push 1 { push(-pop()); } }
        int->void filter Sink { work pop 1 { println(pop()); } }
        """;

    [Fact]
    public void SplitJoinFusedIntoBuffersAndTables()
    {
        var p = StreamProgram.Compile([new SourceFile("dup.str", Program)], new Printer(null));
        Assert.Equal("""
            pipeline P : void->void
              filter Src : void->int  pop 0 peek 0 push 1  stateful
              splitjoin splitjoin@dup.str:1 : int->int  split duplicate  join roundrobin(1, 1)
                filter Neg : int->int  pop 1 peek 1 push 1  stateless
                filter Neg#2 : int->int  pop 1 peek 1 push 1  stateless
              filter Sink : int->void  pop 1 peek 1 push 0  stateful

            """.ReplaceLineEndings("\n"), GraphText.Text(p.Graph).ReplaceLineEndings("\n"));
        // Per steady state Src, the splitter, each Neg and the joiner fire once and Sink twice. Only filters that
        // compute write buffers (2 items a unit each: 6 ints); the splitter's copies are Src's items where they lie.
        Assert.Equal("""
            fused unit: 2 steady state(s), 6 step(s)
            arenas: Int32[6]
            edges:
              splitjoin@dup.str:1.split -> Neg   compiled away: items in a row at 4
              splitjoin@dup.str:1.split -> Neg#2 compiled away: items in a row at 4
              Neg -> splitjoin@dup.str:1.join    buffer at 0, 0 kept + 2 per unit
              Neg#2 -> splitjoin@dup.str:1.join  buffer at 2, 0 kept + 2 per unit
              Src -> splitjoin@dup.str:1.split   buffer at 4, 0 kept + 2 per unit
              splitjoin@dup.str:1.join -> Sink   compiled away: read through a table
            no code (every output compiled away): splitjoin@dup.str:1.split, splitjoin@dup.str:1.join
            steps:
              Src x2
              splitjoin@dup.str:1.split x2  (no code)
              Neg x2
              Neg#2 x2
              splitjoin@dup.str:1.join x2  (no code)
              Sink x4

            """.ReplaceLineEndings("\n"), FusedPlanText.Text(p.Flat, FusedPlan.Make(p.Flat, p.Schedule, 2)!).ReplaceLineEndings("\n"));
        Assert.StartsWith("fused unit: 1024 steady state(s)", FusedPlanText.Text(p), StringComparison.Ordinal);
    }
}
