namespace Loom.Tests.StreamTests;

/// <summary>Java's arithmetic and the MIT C back end's printing, checked on hand-worked values.</summary>
public class SemanticsTests
{
    private static string[] Lines(string body, int n) =>
        StreamHarness.Run($"void->void filter Main {{ work {{ {body} }} }}", n);

    [Fact]
    public void IntArithmeticWrapsAndTruncatesLikeJava()
    {
        var lines = Lines("""
            int a = 2147483647; println(a + 1);
            println(-7 / 2); println(-7 % 2); println(7 % -2);
            int m = -2147483648; println(m - 1); println(65793 * 8388607);
            println(0x9e3779b9);
            println(-8 >>> 28); println(-8 >> 1); println(1 << 33);
            """, 10);
        Assert.Equal(["-2147483648", "-3", "-1", "1", "2147483647", "-2139160833", "-1640531527", "15", "-4", "2"], lines);
    }

    [Fact]
    public void FloatsPrintAsCPercentF()
    {
        var lines = Lines("""
            println(3.5); println((int)-2.7); println(1.0 / 3); println(837661900144640.0);
            println(-0.0); println(true); println(1 == 2); println("x=" + 3);
            """, 8);
        Assert.Equal(["3.500000", "-2", "0.333333", "837661900144640.000000", "-0.000000", "true", "false", "x=3"], lines);
    }

    [Fact]
    public void StructsAreCopiedOnAssignment()
    {
        var lines = StreamHarness.Run("""
            struct P { int a; float b; }
            void->void filter Main {
              work { P x; x.a = 1; x.b = 2.5; P y = x; y.a = 7; println(x.a); println(y.a); println(y.b); }
            }
            """, 3);
        Assert.Equal(["1", "7", "2.500000"], lines);
    }

    [Fact]
    public void HelperFunctionsAndLoopsRun()
    {
        var lines = StreamHarness.Run("""
            int fact(int n) { int r = 1; for (int i = 2; i <= n; i++) r *= i; return r; }
            void->void filter Main {
              int calls;
              int next() { calls++; return calls; }
              work { int s = 0; while (true) { s += next(); if (s > 10) break; } println(s); println(fact(10)); }
            }
            """, 4);
        // 1+2+3+4+5 = 15 > 10 on the first firing; then 6 > 10? no: 6+7 = 13 on the second.
        Assert.Equal(["15", "3628800", "13", "3628800"], lines);
    }
}
