using System.Globalization;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Filters that read through a compiled-away splitter or joiner share the fused loop of their producers only when
/// every item a firing of iteration t reads was written in iteration t or before (<c>SharedLoopReads</c>), and an
/// int conditional of plain arithmetic is computed without a branch (<c>CodeGen.BranchFree</c>). Expected lines
/// are worked out here from the programs' meaning.
/// </summary>
public class SharedLoopTests
{
    // Figure1's shape: a source, a duplicate splitter into two filters, a round-robin joiner into the printer.
    private const string Diamond = """
        void->void pipeline P {
          add Src();
          add int->int splitjoin { split duplicate; add B(); add C(); join roundrobin(WEIGHTS); };
          add D();
        }
        void->int stateful filter Src { int i = 0; work push 1 { push(i); i++; } }
        int->int filter B { work pop 1 push 1 { push(pop() * 10); } }
        int->int filter C { work pop 1 push 1 { push(pop() * 10 + 1); } }
        int->void filter D { work pop 1 { println(pop()); } }
        """;

    private static IEnumerable<string> Joined(int weight, int lines)
    {
        // Blocks of `weight` items of B (10x), then the same x's through C (10x + 1).
        for (int block = 0; ; block++)
            for (int side = 0; side < 2; side++)
                for (int r = 0; r < weight; r++)
                {
                    if (lines-- == 0) yield break;
                    int x = block * weight + r;
                    yield return (10 * x + side).ToString(CultureInfo.InvariantCulture);
                }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FiltersBehindASplitterAndAJoinerPrintTheJoinedOrder(int weight)
    {
        // With weights 1 every iteration of a shared loop reads only what it wrote. With 2 and 3, D's firing in
        // iteration t reads B's item of iteration t + 1: sharing one loop would read it before it is written, so
        // those filters must keep loops of their own.
        var source = Diamond.Replace("WEIGHTS", $"{weight}, {weight}");
        var expected = Joined(weight, 5000).ToArray();
        foreach (bool fuse in new[] { true, false })
            Assert.Equal(expected, StreamHarness.RunSequential(source, expected.Length, fuse));
        Assert.Equal(expected, StreamHarness.Run(source, expected.Length, cores: 2));
    }

    private const string Conditionals = """
        void->void pipeline P { add Src(); add F(); add Print(); }
        void->int stateful filter Src { int s = 7; work push 1 { push(s); s = s * 1103515245 + 12345; } }
        int->int filter F {
          work pop 1 push 4 {
            int x = pop();
            push(x < 0 ? -x : x);
            push((x & 4) == 0 ? x >> 3 : x * 3 - 1);
            push(x > 5 && x < 1000000 ? 1 : 0);
            push(x % 3 == 0 ? x / 3 : x);
          }
        }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    [Fact]
    public void IntConditionalsGiveTheChosenValue()
    {
        var expected = new List<string>();
        int s = 7;
        for (int k = 0; k < 400; k++)
        {
            int x = s;
            unchecked
            {
                s = s * 1103515245 + 12345;
                expected.Add((x < 0 ? -x : x).ToString(CultureInfo.InvariantCulture));
                expected.Add(((x & 4) == 0 ? x >> 3 : x * 3 - 1).ToString(CultureInfo.InvariantCulture));
                expected.Add((x > 5 && x < 1000000 ? 1 : 0).ToString(CultureInfo.InvariantCulture));
                expected.Add((x % 3 == 0 ? x / 3 : x).ToString(CultureInfo.InvariantCulture));
            }
        }
        foreach (bool fuse in new[] { true, false })
            Assert.Equal(expected, StreamHarness.RunSequential(Conditionals, expected.Count, fuse));
    }

    [Fact]
    public void TheAbsoluteValueOfTheSmallestIntIsItself()
    {
        // Java: -(-2147483648) wraps to -2147483648; the branch-free form must agree.
        const string source = """
            void->void pipeline P { add Src(); add F(); add Print(); }
            void->int stateful filter Src { int s = -2147483647; work push 1 { push(s); s = s - 1; } }
            int->int filter F { work pop 1 push 1 { int x = pop(); push(x < 0 ? -x : x); } }
            int->void stateful filter Print { work pop 1 { println(pop()); } }
            """;
        Assert.Equal(["2147483647", "-2147483648", "2147483647", "2147483646"], StreamHarness.RunSequential(source, 4, fuse: true));
    }
}
