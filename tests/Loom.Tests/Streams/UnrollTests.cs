using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Short fixed loops in work functions are unrolled (each copy with the counter a constant): stepping by 2,
/// counting down with <c>&gt;=</c>, a local declared in the body, and the counter's value after the loop must
/// all come out as the loops would compute them, on the fused runtime and on the rings.
/// </summary>
public class UnrollTests
{
    private const string Program = """
        void->void pipeline P { add Src(); add F(); add Print(); }
        void->int stateful filter Src { int i = 0; work push 1 { push(i * 7 + 3); i++; } }
        int->int filter F {
          work pop 4 peek 6 push 3 {
            int i;
            int s = 0;
            for (i = 0; i < 6; i += 2) { int t = peek(i) * 10; s += t + peek(i + 1); }
            push(s);
            push(i);
            int d = 0;
            for (int j = 5; j >= 0; j--) d = d * 2 + peek(j) % 2;
            push(d);
            for (int k = 0; k < 4; k++) pop();
          }
        }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UnrolledLoopsComputeWhatTheLoopsCompute(bool fuse)
    {
        var lines = StreamHarness.RunSequential(Program, 3000, fuse);
        // Firing f sees x(4f) … x(4f+5), x(n) = 7n + 3.
        static long X(long n) => 7 * n + 3;
        for (int f = 0; f < 1000; f++)
        {
            long s = 0, d = 0;
            for (int i = 0; i < 6; i += 2) s += 10 * X(4 * f + i) + X(4 * f + i + 1);
            for (int j = 5; j >= 0; j--) d = d * 2 + X(4 * f + j) % 2;
            Assert.Equal(s.ToString(CultureInfo.InvariantCulture), lines[3 * f]);
            Assert.Equal("6", lines[3 * f + 1]);
            Assert.Equal(d.ToString(CultureInfo.InvariantCulture), lines[3 * f + 2]);
        }
    }
}
