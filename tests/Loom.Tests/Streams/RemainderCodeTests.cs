using System.Globalization;

namespace Loom.Tests.StreamTests;

/// <summary>
/// <c>x % 2^k</c> on ints is compiled to a mask and a sign fix-up (<c>CodeGen.PowerOfTwoRemainder</c>) instead of the
/// JIT's division form: the remainder must keep Java's sign rule (the dividend's sign) on negative dividends, on
/// negative multiples of 2^k (remainder 0, where the fix-up alone would give −2^k) and on <c>int.MinValue</c>, in an
/// expression, in <c>%=</c> and in the benchmarks' random source, against C#'s own <c>%</c> (the same rule).
/// </summary>
public class RemainderCodeTests
{
    private const string Program = """
        void->void pipeline P { add Src(); add F(); add Print(); }
        void->int stateful filter Src {
          int i = 0;
          work push 1 {
            if (i % 5 == 0) push(0 - i * 4096); else if (i % 5 == 1) push(i * 7919 - 500000); else if (i % 5 == 2) push(-2147483648 + (i - 2) * 4096);
            else if (i % 5 == 3) push(2147483647 - i * 3); else push(0 - i * 8388608);
            i++;
          }
        }
        int->int filter F {
          work pop 1 push 5 {
            int x = pop();
            push(x % 2);
            push(x % 8);
            push(x % 8388608);
            int y = x;
            y %= 1073741824;
            push(y);
            push((x * 65793 + 4282663) % 8388608);
          }
        }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    private static int Input(int i) => unchecked((i % 5) switch
    {
        0 => -i * 4096,
        1 => i * 7919 - 500000,
        2 => int.MinValue + (i - 2) * 4096,
        3 => int.MaxValue - i * 3,
        _ => -i * 8388608,
    });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RemaindersByPowersOfTwoKeepTheDividendsSign(bool fuse)
    {
        var lines = StreamHarness.RunSequential(Program, 5 * 400, fuse);
        for (int i = 0; i < 400; i++)
        {
            int x = Input(i);
            int[] expected = unchecked([x % 2, x % 8, x % 8388608, x % 1073741824, (x * 65793 + 4282663) % 8388608]);
            for (int k = 0; k < 5; k++) Assert.Equal(expected[k].ToString(CultureInfo.InvariantCulture), lines[5 * i + k]);
        }
        // The cases the fix-up must not touch or must get right were all there.
        Assert.Contains(Enumerable.Range(0, 400), i => Input(i) < 0 && Input(i) % 8388608 == 0 && Input(i) != 0);
        Assert.Contains(Enumerable.Range(0, 400), i => Input(i) < 0 && Input(i) % 8 != 0);
        Assert.Contains(Enumerable.Range(0, 400), i => Input(i) == int.MinValue);
    }

    private const string Lcg = """
        void->void pipeline P { add Src(); add Print(); }
        void->int stateful filter Src { int seed = 0; work push 1 { push(seed); seed = (65793 * seed + 4282663) % 8388608; } }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    [Fact]
    public void TheRandomSourcesChainIsJavas()
    {
        var lines = StreamHarness.RunSequential(Lcg, 3000, true);
        int seed = 0;
        bool negative = false;
        for (int i = 0; i < 3000; i++)
        {
            Assert.Equal(seed.ToString(CultureInfo.InvariantCulture), lines[i]);
            negative |= seed < 0;
            seed = unchecked(65793 * seed + 4282663) % 8388608;
        }
        Assert.True(negative, "the chain should pass through negative seeds");
    }
}
