using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>Synchronous-dataflow scheduling on hand-worked graphs.</summary>
public class ScheduleTests
{
    private static StreamProgram Compile(string src) =>
        StreamProgram.Compile([new SourceFile("s.str", src)], new Printer(new StringWriter(CultureInfo.InvariantCulture), 1000));

    private const string Chain = """
        void->void pipeline P { add A(); add B(); add C(); }
        void->int filter A { int n; work push 2 { push(n++); push(n++); } }
        int->int filter B { work pop 3 peek 5 push 1 { push(peek(0) + peek(4)); pop(); pop(); pop(); } }
        int->void filter C { work pop 2 { println(pop() + pop()); } }
        """;

    [Fact]
    public void RepetitionVectorBalancesRates()
    {
        // 2·rA = 3·rB and 1·rB = 2·rC: the least solution is rA = 3, rB = 2, rC = 1.
        var p = Compile(Chain);
        Assert.Equal([3L, 2L, 1L], p.Schedule.Repetitions);
        // B peeks 2 beyond what it pops, so A fires once before the steady state to leave 2 items.
        Assert.Equal([1L, 0L, 0L], p.Schedule.InitCounts);
        Assert.Equal([2L, 0L], p.Schedule.ItemsAfterInit);
    }

    [Fact]
    public void PeekingFilterComputesTheRightValues()
    {
        // A pushes 0,1,2,…; B firing k pushes x[3k] + x[3k+4] = 6k + 4; C sums pairs: (6·2j+4) + (6·(2j+1)+4) = 24j + 14.
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = StreamProgram.Compile([new SourceFile("s.str", Chain)], new Printer(sw, 3));
        p.Run(1, 100);
        Assert.Equal("14\n38\n62\n", sw.ToString());
    }

    [Fact]
    public void SplitJoinAndFeedbackRepetitions()
    {
        var p = Compile("""
            void->void pipeline P { add S(); add SJ(); add K(); }
            void->int filter S { work push 1 { push(1); } }
            int->int splitjoin SJ { split roundrobin(2, 1); add F(); add Identity<int>(); join roundrobin(1, 1); }
            int->int filter F { work pop 2 push 1 { push(pop() + pop()); } }
            int->void filter K { work pop 1 { println(pop()); } }
            """);
        // Splitter takes 3 per firing and gives 2 to F (one F firing) and 1 to Identity; joiner takes 1 + 1.
        var reps = p.Flat.Actors.ToDictionary(a => a.Name, a => p.Schedule.Repetitions[a.Index]);
        Assert.Equal(3, reps["S"]);
        Assert.Equal(1, reps["SJ.split"]);
        Assert.Equal(1, reps["F"]);
        Assert.Equal(1, reps["SJ.join"]);
        Assert.Equal(2, reps["K"]);
    }
}
