using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// The code generator's scalar work: a field fixed after init as a loop bound, an array field fixed after init
/// read at constant indices, an element accumulated in a local across an unrolled loop, local arrays whose
/// elements become locals, and two copies behind a round-robin splitter reading strided rows (not tables) —
/// all must compute what the source says (hand-worked below), fused and on the rings.
/// </summary>
public class ScalarCodeTests
{
    private const string Program = """
        void->void pipeline P {
          add Src();
          add splitjoin { split roundrobin(4); add F(); add F(); join roundrobin(3); };
          add Print();
        }
        void->int stateful filter Src { int i = 0; work push 1 { push(i * 7 + 3); i++; } }
        int->int filter F {
          int total;
          int[4] w;
          init { total = 4; for (int i = 0; i < 4; i++) w[i] = i + 1; }
          work pop 4 push 3 {
            int[2] acc;
            int[4] r;
            for (int k = 0; k < total; k++) acc[1] += peek(k) * w[k];
            for (int k = 0; k < 4; k++) { int back = 3 - k; r[k] = peek(back) - k; }
            push(acc[1]);
            push(acc[0]);
            push(r[0] * r[3] + r[1]);
            for (int k = 0; k < 4; k++) pop();
          }
        }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ScalarCodeComputesWhatTheSourceSays(bool fuse)
    {
        var lines = StreamHarness.RunSequential(Program, 3000, fuse);
        // Block b (items 4b … 4b+3, x(n) = 7n + 3) goes to copy b mod 2; the joiner puts the blocks back in order.
        static long X(long n) => 7 * n + 3;
        for (int b = 0; b < 1000; b++)
        {
            long acc = 0;
            for (int k = 0; k < 4; k++) acc += X(4 * b + k) * (k + 1);
            long r0 = X(4 * b + 3), r1 = X(4 * b + 2) - 1, r3 = X(4 * b) - 3;
            Assert.Equal(acc.ToString(CultureInfo.InvariantCulture), lines[3 * b]);
            Assert.Equal("0", lines[3 * b + 1]);
            Assert.Equal((r0 * r3 + r1).ToString(CultureInfo.InvariantCulture), lines[3 * b + 2]);
        }
    }
}
