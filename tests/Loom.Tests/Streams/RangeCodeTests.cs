using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Reads of a fixed two-dimensional array at indices proven in range (loop counters, constants, <c>&amp; c</c>) come
/// from a flat copy without bounds checks (<c>CodeGen.FlatRead</c>): they must read the same elements as the nested
/// arrays do, counting up and down, in loops too long to unroll and unrolled ones; an index not proven in range
/// keeps its check and still fails the run. Likewise reads of a field array at an int variable whose every
/// assignment is bounded (<c>CodeGen.VarRanges</c>: BeamFormer's <c>modPos = (modPos + 1) &amp; 63</c>).
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

    private const string Ring = """
        void->void pipeline P { add Src(); add F(); add Print(); }
        void->int stateful filter Src { int i = 0; work push 1 { push(i * 7 + 3); i++; } }
        int->int stateful filter F {
          int[8] buf;
          int pos;
          int count;
          work pop 1 push 2 {
            buf[pos] = pop();
            int m = (pos + 5) & 7;
            int s = 0;
            for (int i = 0; i < 40; i++) { s = s * 3 + buf[m]; m = (m + 1) & 7; }
            push(s);
            pos = (pos + 3) & 7;
            count += 1;
            push(buf[(count * 5) & 7]);
          }
        }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FieldArrayReadsAtMaskedVariablesReadTheRing(bool fuse)
    {
        // pos and m only ever hold (…) & 7 or their start (0): their reads of buf (8 long) skip the bounds check.
        var lines = StreamHarness.RunSequential(Ring, 400, fuse);
        var buf = new int[8];
        int pos = 0, count = 0;
        for (int f = 0; f < 200; f++)
        {
            buf[pos] = f * 7 + 3;
            int m = (pos + 5) & 7, s = 0;
            unchecked { for (int i = 0; i < 40; i++) { s = s * 3 + buf[m]; m = (m + 1) & 7; } }
            pos = (pos + 3) & 7;
            count++;
            Assert.Equal(s.ToString(CultureInfo.InvariantCulture), lines[2 * f]);
            Assert.Equal(buf[(count * 5) & 7].ToString(CultureInfo.InvariantCulture), lines[2 * f + 1]);
        }
    }

    [Fact]
    public void AMaskWiderThanTheFieldArrayKeepsItsCheck()
    {
        string bad = Ring.Replace("m = (m + 1) & 7;", "m = (m + 1) & 15;");
        Assert.NotEqual(Ring, bad);
        var p = StreamProgram.Compile([new SourceFile("test.str", bad)], new Printer(new StringWriter(), 100));
        var e = Assert.ThrowsAny<Exception>(() => p.RunSequential(long.MaxValue));
        Assert.True(e is IndexOutOfRangeException || e.InnerException is IndexOutOfRangeException, e.ToString());
    }
}
