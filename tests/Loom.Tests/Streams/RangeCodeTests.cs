using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Reads of a fixed two-dimensional array at indices proven in range (loop counters, constants, <c>&amp; c</c>) come
/// from a flat copy without bounds checks (<c>CodeGen.FlatRead</c>): they must read the same elements as the nested
/// arrays do, counting up and down, in loops too long to unroll and unrolled ones; an index not proven in range
/// keeps its check and still fails the run.
/// </summary>
public class RangeCodeTests
{
    private const string Program = """
        void->void pipeline P { add Src(); add F(); add Print(); }
        void->int stateful filter Src { int i = 0; work push 1 { push(i * 7 + 3); i++; } }
        int->int filter F {
          int[5][7] c;
          init { for (int r = 0; r < 5; r++) for (int k = 0; k < 7; k++) c[r][k] = r * 100 + k * k; }
          work pop 1 push 3 {
            int x = pop();
            int s = 0;
            for (int i = 4; i >= 0; i--) for (int j = 0; j < 7; j++) s = s * 3 + c[i][j];
            push(s);
            int t = 0;
            for (int n = 0; n < 35; n++) t = t * 5 + c[n / 7][6 - n % 7] + c[4 - (n & 3)][(n & 3) + 2];
            push(t);
            push(c[x & 3][x % 7]);
          }
        }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ProvenReadsReadTheElementsTheIndicesName(bool fuse)
    {
        var lines = StreamHarness.RunSequential(Program, 300, fuse);
        static int C(int r, int k) => r * 100 + k * k;
        int s = 0, t = 0;
        unchecked
        {
            for (int i = 4; i >= 0; i--) for (int j = 0; j < 7; j++) s = s * 3 + C(i, j);
            for (int n = 0; n < 35; n++) t = t * 5 + C(n / 7, 6 - n % 7) + C(4 - (n & 3), (n & 3) + 2);
        }
        for (int f = 0; f < 100; f++)
        {
            int x = f * 7 + 3;
            Assert.Equal(s.ToString(CultureInfo.InvariantCulture), lines[3 * f]);
            Assert.Equal(t.ToString(CultureInfo.InvariantCulture), lines[3 * f + 1]);
            Assert.Equal(C(x & 3, x % 7).ToString(CultureInfo.InvariantCulture), lines[3 * f + 2]);
        }
    }

    [Fact]
    public void AnIndexPastTheRowStillFails()
    {
        // j & 7 reaches 7 on rows of 7 (in a loop too long to unroll): the range [0, 7] is not within the row, so
        // the read keeps its bounds check.
        string bad = Program.Replace("for (int j = 0; j < 7; j++) s = s * 3 + c[i][j];", "for (int j = 0; j < 40; j++) s = s + c[i][j & 7];");
        Assert.NotEqual(Program, bad);
        var p = StreamProgram.Compile([new SourceFile("test.str", bad)], new Printer(new StringWriter(), 100));
        var e = Assert.ThrowsAny<Exception>(() => p.RunSequential(long.MaxValue));
        Assert.True(e is IndexOutOfRangeException || e.InnerException is IndexOutOfRangeException, e.ToString());
    }
}
