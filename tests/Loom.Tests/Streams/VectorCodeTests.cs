using System.Globalization;
using Loom.Streams.CodeGen;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Counting loops over peeks (<c>for (i…) if (peek(i) OP x) count++;</c>) compiled to vector compares: the counts
/// (int and float items, each comparison, mirrored operands, an offset peek, a decrement, the counter's final
/// value, lengths that are not multiples of 8) against hand-worked values, fused (vector code) and on the rings
/// (the scalar loop); and the vector count itself against a scalar count on random data, NaNs included.
/// </summary>
public class VectorCodeTests
{
    private const string Program = """
        void->void pipeline P {
          add Src();
          add splitjoin { split duplicate; add Count(); add pipeline { add ToF(); add FCount(); }; join roundrobin(5, 2); };
          add Print();
        }
        void->int stateful filter Src { int i = 0; work push 1 { push((i * 37 + 11) % 101 - 50); i++; } }
        int->int filter Count {
          work pop 4 peek 21 push 5 {
            int mine = peek(3);
            int lt = 0; int ge = 0; int ne = 0; int down = 0;
            int i;
            for (i = 0; i < 21; i++) if (peek(i) < mine) lt = lt + 1;
            push(lt); push(i);
            for (int k = 2; k <= 18; k++) { if (mine <= peek(k)) { ge++; } }
            push(ge);
            for (int k = 0; k < 13; k++) if (peek(k + 8) != 0) ne += 1;
            push(ne);
            for (int k = 0; k < 9; k++) if (peek(1 + k) == mine - 1) down--;
            push(down);
            pop(); pop(); pop(); pop();
          }
        }
        int->float filter ToF { work pop 1 push 1 { push((float)pop()); } }
        float->int filter FCount {
          work pop 2 peek 16 push 1 {
            float t = peek(0) - 3;
            int c = 0;
            for (int k = 0; k < 16; k++) if (peek(k) > t) c++;
            push(c);
            pop(); pop();
          }
        }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CountingLoopsComputeWhatTheSourceSays(bool fuse)
    {
        var lines = StreamHarness.RunSequential(Program, 8000, fuse);
        static int X(int n) => (n * 37 + 11) % 101 - 50;
        var expected = new List<int>();
        for (int f = 0; expected.Count < 8000; f++)
        {
            int W(int k) => X(4 * f + k);
            int mine = W(3);
            expected.Add(Enumerable.Range(0, 21).Count(k => W(k) < mine));
            expected.Add(21);
            expected.Add(Enumerable.Range(2, 17).Count(k => mine <= W(k)));
            expected.Add(Enumerable.Range(0, 13).Count(k => W(k + 8) != 0));
            expected.Add(-Enumerable.Range(0, 9).Count(k => W(1 + k) == mine - 1));
            for (int g = 2 * f; g < 2 * f + 2; g++)
            {
                float t = X(2 * g) - 3f;
                expected.Add(Enumerable.Range(0, 16).Count(k => X(2 * g + k) > t));
            }
        }
        Assert.Equal(expected.Take(8000).Select(v => v.ToString(CultureInfo.InvariantCulture)), lines);
    }

    [Fact]
    public void VectorCountMatchesAScalarCount()
    {
        var rng = new Random(7);
        var ints = Enumerable.Range(0, 64).Select(_ => rng.Next(-5, 6)).ToArray();
        ints[3] = int.MinValue;
        ints[9] = int.MaxValue;
        var floats = ints.Select(v => v / 2f).ToArray();
        floats[5] = float.NaN;
        floats[20] = float.NaN;
        floats[21] = -0f;
        for (int start = 0; start < 12; start++)
            for (int n = 0; start + n <= 64; n += 5)
                foreach (int x in new[] { -2, 0, 3 })
                {
                    var s = ints.AsSpan(start, n).ToArray();
                    Assert.Equal(s.Count(v => v < x), VectorCount.Count<int, VectorCount.Lt>(ints, start, n, x));
                    Assert.Equal(s.Count(v => v <= x), VectorCount.Count<int, VectorCount.Le>(ints, start, n, x));
                    Assert.Equal(s.Count(v => v > x), VectorCount.Count<int, VectorCount.Gt>(ints, start, n, x));
                    Assert.Equal(s.Count(v => v >= x), VectorCount.Count<int, VectorCount.Ge>(ints, start, n, x));
                    Assert.Equal(s.Count(v => v == x), VectorCount.Count<int, VectorCount.Eq>(ints, start, n, x));
                    Assert.Equal(s.Count(v => v != x), VectorCount.Count<int, VectorCount.Ne>(ints, start, n, x));
                    foreach (float y in new[] { x / 2f, float.NaN, 0f })
                    {
                        var t = floats.AsSpan(start, n).ToArray();
                        Assert.Equal(t.Count(v => v < y), VectorCount.Count<float, VectorCount.Lt>(floats, start, n, y));
                        Assert.Equal(t.Count(v => v >= y), VectorCount.Count<float, VectorCount.Ge>(floats, start, n, y));
                        Assert.Equal(t.Count(v => v == y), VectorCount.Count<float, VectorCount.Eq>(floats, start, n, y));
                        Assert.Equal(t.Count(v => v != y), VectorCount.Count<float, VectorCount.Ne>(floats, start, n, y));
                    }
                }
        Assert.Throws<IndexOutOfRangeException>(() => VectorCount.Count<int, VectorCount.Lt>(ints, 60, 5, 0));
    }
}
