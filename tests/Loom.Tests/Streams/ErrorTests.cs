namespace Loom.Tests.StreamTests;

/// <summary>Bad programs fail with a StreamException (a LoomException) that says where or which streams.</summary>
public class ErrorTests
{
    [Fact]
    public void SyntaxErrorHasFileLineColumn()
    {
        var e = StreamHarness.CompileError("void->void filter F {\n  work { println(1) }\n}\n");
        Assert.StartsWith("bad.str:2:21: ", e.Message);
        Assert.Contains("';'", e.Message);
        Assert.IsAssignableFrom<LoomException>(e);
    }

    [Fact]
    public void TypeErrorHasFileLineColumn()
    {
        var e = StreamHarness.CompileError("void->void filter F {\n  work {\n    int x = true;\n    println(x);\n  }\n}\n");
        Assert.StartsWith("bad.str:3:13: ", e.Message);
        Assert.Contains("boolean", e.Message);
    }

    [Fact]
    public void UnknownStreamHasFileLineColumn()
    {
        var e = StreamHarness.CompileError("void->void pipeline P {\n  add Nope();\n}\n");
        Assert.StartsWith("bad.str:2:7: ", e.Message);
        Assert.Contains("Nope", e.Message);
    }

    [Fact]
    public void RateMismatchNamesTheStreams()
    {
        var e = StreamHarness.CompileError("""
            void->void pipeline P { add Src(); add SJ(); add Sink(); }
            void->int filter Src { work push 1 { push(1); } }
            int->int splitjoin SJ { split duplicate; add One(); add Two(); join roundrobin(1, 1); }
            int->int filter One { work pop 1 push 1 { push(pop()); } }
            int->int filter Two { work pop 1 push 2 { int v = pop(); push(v); push(v); } }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """);
        Assert.Contains("rate mismatch", e.Message);
        Assert.Contains("SJ", e.Message);
        Assert.True(e.Message.Contains("One") || e.Message.Contains("Two"), e.Message);
    }

    [Fact]
    public void FeedbackLoopWithoutDelayDeadlocksWithAMessage()
    {
        var e = StreamHarness.CompileError("""
            void->void pipeline P { add Fib(); add Sink(); }
            void->int feedbackloop Fib {
              join roundrobin(0, 1);
              body int->int filter { work pop 1 peek 2 push 1 { push(peek(0) + peek(1)); pop(); } };
              loop Identity<int>;
              split duplicate;
              enqueue 1;
            }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """);
        Assert.Contains("deadlock", e.Message);
        Assert.Contains("feedback loop Fib", e.Message);
    }

    [Fact]
    public void DynamicProducerThatNeverPushesIsADeadlockNotAHang()
    {
        // Src declares 'push *' and pushes nothing: Sink's pull can never be served.
        var e = StreamHarness.CompileError("""
            void->void pipeline P { add Src(); add Sink(); }
            void->int filter Src { work push * { } }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """);
        Assert.Contains("deadlock", e.Message);
        Assert.Contains("Src -> Sink", e.Message);
    }

    [Fact]
    public void DynamicRateInsideAFeedbackLoopWithoutDelayIsADeadlock()
    {
        // The loop's joiner needs an item from the loop before anything was enqueued: pulling the body pulls the
        // joiner again, which is reported, naming it, instead of recursing.
        var e = StreamHarness.CompileError("""
            void->void pipeline P { add Loop(); add Sink(); }
            void->int feedbackloop Loop {
              join roundrobin(0, 1);
              body int->int filter { work pop 1 push * { push(pop() + 1); } };
              loop Identity<int>;
              split duplicate;
            }
            int->void filter Sink { work pop 1 { println(pop()); } }
            """);
        Assert.Contains("deadlock", e.Message);
        Assert.Contains("feedback loop Loop", e.Message);
    }
}
