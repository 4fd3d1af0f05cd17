using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Scheduling;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>The partitioned, software-pipelined runtime prints exactly what the sequential one prints.</summary>
public class ParallelTests
{
    // Two stateful printers on different branches, a stateless heavy filter and a feedback loop: the partition
    // must keep the printers' lines in order and the loop on one core.
    internal const string Program = """
        void->void pipeline Main { add Src(); add SJ(); add Fib(); add Sink(); }
        void->int stateful filter Src { int x; work push 1 { x = x * 1103515245 + 12345; push(x >> 8); } }
        int->int splitjoin SJ {
          split roundrobin(1, 1);
          add Heavy(1); add Tap();
          join roundrobin(1, 1);
        }
        int->int filter Heavy(int k) { work pop 1 push 1 { int v = pop(); for (int i = 0; i < 50; i++) v = v * 31 + k; push(v); } }
        int->int filter Tap { work pop 1 push 1 { int v = pop(); println("tap " + v); push(v); } }
        int->int feedbackloop Fib {
          join roundrobin(1, 1);
          body int->int filter { work pop 2 push 2 { int a = pop(); int b = pop(); push(a + b); push(a - b); } };
          loop Identity<int>;
          split roundrobin(1, 1);
          enqueue 0;
        }
        int->void filter Sink { work pop 1 { println(pop()); } }
        """;

    private static string Run(int cores, int lines)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = StreamProgram.Compile([new SourceFile("p.str", Program)], new Printer(sw, lines));
        p.Run(cores, long.MaxValue);
        return sw.ToString();
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 5000)]
    [InlineData(3, 7777)]
    public void ParallelOutputEqualsSequential(int cores, int lines)
    {
        var seq = Run(1, lines);
        Assert.Equal(lines, seq.Count(c => c == '\n'));
        Assert.Equal(seq, Run(cores, lines));
    }

    [Fact]
    public void FissionOfAHeavyStatelessFilterKeepsTheOutput()
    {
        const string src = """
            void->void pipeline Main { add Src(); add Heavy(3); add Sink(); }
            void->int stateful filter Src { int x; work push 1 { x = x * 1103515245 + 12345; push(x >> 8); } }
            int->int filter Heavy(int k) { work pop 2 push 1 { int a = pop(); int b = pop(); for (int i = 0; i < 300; i++) { a = a * 31 + k; b = b ^ (a >> 3); } push(a + b); } }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """;
        string Go(int cores, out StreamProgram used)
        {
            var sw = new StringWriter(CultureInfo.InvariantCulture);
            var p = StreamProgram.Compile([new SourceFile("h.str", src)], new Printer(sw, 3000));
            // Fission serves the pipeline; unit alternation (which this program would get) runs the whole graph on each core.
            p.Mode = ParallelMode.Pipeline;
            used = p;
            if (cores == 1) p.Run(1, long.MaxValue);
            else
            {
                // Heavy dwarfs the rest, so judicious fission splits it in two, and the copies land on different cores.
                (used, var plan) = p.PrepareParallel(cores);
                Assert.Equal(2, used.Fissions["Heavy"]);
                var copies = used.Flat.Actors.Where(a => a.Name is "Heavy.0" or "Heavy.1").ToList();
                Assert.Equal(2, copies.Select(a => plan.Core[a.Index]).Distinct().Count());
                used.RunParallel(cores, long.MaxValue, plan);
            }
            return sw.ToString();
        }
        Assert.Equal(Go(1, out _), Go(2, out _));
    }

    [Fact]
    public void FeedbackLoopStaysOnOneCoreAndPrintersShareAStage()
    {
        var p = StreamProgram.Compile([new SourceFile("p.str", Program)], new Printer(null));
        var part = Partition.Make(p.Flat, 2, p.Flat.Actors.Select(a => a.Name.StartsWith("Heavy") ? 10.0 : 1.0).ToArray());
        var loop = p.Flat.Actors.Where(a => a.FeedbackLoop == "Fib").ToList();
        Assert.Equal(3, loop.Count(a => a.Kind != ActorKind.Filter) + 1);
        Assert.Single(loop.Select(a => part.Core[a.Index]).Distinct());
        var printers = p.Flat.Actors.Where(a => a.Name is "Tap" or "Sink").ToList();
        Assert.Single(printers.Select(a => part.Stage[a.Index]).Distinct());
        // A consumer on another core is always at a later stage than its producer.
        foreach (var e in p.Flat.Edges)
            if (part.Core[e.Src.Index] != part.Core[e.Dst.Index] && e.Src.Index < e.Dst.Index)
                Assert.True(part.Stage[e.Dst.Index] > part.Stage[e.Src.Index], e.ToString());
    }
}
