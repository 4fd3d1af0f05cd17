using Loom.Streams.Passes;

namespace Loom.Tests.StreamTests;

/// <summary>
/// The solved recurrence <c>s = (A * s + C) % 2^k</c> (<see cref="LcgRecurrence"/>, <see cref="LcgBlocks"/>) against
/// the recurrence stepped one firing at a time with C#'s own int arithmetic (which wraps and truncates as Java's):
/// block filling bit for bit over 2^24 consecutive items, and random access at arbitrary n.
/// </summary>
public class RecurrenceTests
{
    /// <summary>(A, C, k): the benchmarks' constants; negative A and C; resets rare (A mod 2^(32−k) near half); k too large to measure; A even (no random access); tiny M.</summary>
    public static TheoryData<int, int, int> Constants => new()
    {
        { 65793, 4282663, 23 },
        { -1103515245, 12345, 20 },
        { 1103515245, -12345, 17 },
        { 32769 + 65536 * 7, 12345, 16 },
        { 69069, 1, 30 },
        { 65794, 4282663, 23 },
        { 5, 3, 1 },
        { 5, 2, 4 },
    };

    private static int Serial(LcgRecurrence r, int s) => unchecked(r.A * s + r.C) % (1 << r.K);

    [Theory]
    [MemberData(nameof(Constants))]
    public void BlocksEqualTheSerialRecurrenceForTwoToThe24Items(int a, int c, int k)
    {
        var r = new LcgRecurrence(a, c, k);
        var blocks = new LcgBlocks(r);
        var rng = new Random(a ^ k);
        foreach (int seed in new[] { 0, rng.Next(), -rng.Next(), int.MinValue })
            foreach (bool after in new[] { false, true })
            {
                bool abs = seed == 0 && after;
                int items = seed == 0 && !after ? 1 << 24 : 1 << 18;
                var got = new int[items];
                int s = seed, at = 0, chunk = 1;
                while (at < items)
                {
                    int n = Math.Min(chunk, items - at);
                    blocks.Fill(got.AsSpan(at, n), ref s, after, abs);
                    at += n;
                    chunk = chunk % 201 + 1 + (chunk > 150 ? 1000 : 0);
                }
                int t = seed;
                for (int i = 0; i < items; i++)
                {
                    int next = Serial(r, t);
                    int v = after ? next : t;
                    if (abs && v < 0) v = -v;
                    if (got[i] != v) Assert.Fail($"A={a} C={c} k={k} seed={seed} after={after}: item {i} is {got[i]}, the recurrence gives {v}");
                    t = next;
                }
                Assert.Equal(t, s);
            }
    }

    [Theory]
    [MemberData(nameof(Constants))]
    public void FloatBlocksAreTheIntValuesConverted(int a, int c, int k)
    {
        var r = new LcgRecurrence(a, c, k);
        var blocks = new LcgBlocks(r);
        var ints = new int[5000];
        var floats = new float[5000];
        int s1 = 77, s2 = 77;
        blocks.Fill(ints, ref s1, false, false);
        blocks.Fill(floats, ref s2, false, false);
        Assert.Equal(s1, s2);
        for (int i = 0; i < ints.Length; i++) Assert.Equal((float)ints[i], floats[i]);
    }

    [Theory]
    [MemberData(nameof(Constants))]
    public void RandomAccessEqualsSerialStepping(int a, int c, int k)
    {
        var r = new LcgRecurrence(a, c, k);
        var rng = new Random(k);
        foreach (int seed in new[] { 0, rng.Next(), -rng.Next(), int.MaxValue })
        {
            // Every n up to 3000, then far points stepped to serially.
            int s = seed;
            for (int n = 0; n <= 3000; n++, s = Serial(r, s))
                if (r.At(seed, n) != s) Assert.Fail($"A={a} C={c} k={k} seed={seed}: At({n}) is {r.At(seed, n)}, stepping gives {s}");
            if (!r.RandomAccess(seed)) continue;
            long at = 3001;
            foreach (long target in new long[] { 70_000, 1_000_003, 5_000_000, 9_000_001 })
            {
                for (; at < target; at++) s = Serial(r, s);
                Assert.Equal(s, r.At(seed, target));
                s = Serial(r, s);
                at++;
            }
        }
    }

    [Fact]
    public void ResetsAreMeasuredPerConstants()
    {
        // The benchmarks' constants: a reset about every 256 steps, the longest gap well under the bound.
        var bench = new LcgRecurrence(65793, 4282663, 23);
        Assert.True(bench.RandomAccess(0));
        Assert.InRange(bench.WorstGap(0), 256, LcgRecurrence.MaxGap);
        // A mod 2^16 = 32769: the two next signs agree only for 2 of 65536 top halves — resets too rare to walk back to.
        Assert.False(new LcgRecurrence(32769 + 65536 * 7, 12345, 16).RandomAccess(0));
        // k = 30 is not measured; an even A cannot be stepped back.
        Assert.False(new LcgRecurrence(69069, 1, 30).RandomAccess(0));
        Assert.False(new LcgRecurrence(65794, 4282663, 23).RandomAccess(0));
    }
}
