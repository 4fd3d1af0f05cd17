using System.Collections.Concurrent;

namespace Loom.Streams.Passes;

/// <summary>
/// The recurrence <c>s = (A * s + C) % M</c> on Java ints (the product and sum wrap at 32 bits, <c>%</c> truncates
/// toward zero), M = 2^K with 1 ≤ K ≤ 30, solved so that its values need no serial chain.
///
/// After the first step every value lies in (−M, M), so s_n = L_n − M·b_n with L_n = s_n mod M (the low K bits)
/// and b_n ∈ {0, 1} (the sign). L is a pure LCG: the low K bits of A·s + C depend only on the low K bits of s, so
/// L_{n+1} = (A·L_n + C) mod M, and L_{n+j} = (A^j·L_n + C·(A^{j−1} + … + 1)) mod M (jump-ahead). The sign is a
/// one-bit machine driven by L_n: with u = wrap32(A·L_n + C), the next raw value is wrap32(u − A·M·b_n), so
/// b_{n+1} = f0(L_n) when b_n = 0 and f1(L_n) when b_n = 1, where f0 = [u &lt; 0] ∧ [L_{n+1} ≠ 0] and
/// f1 = [wrap32(u − A·M) &lt; 0] ∧ [L_{n+1} ≠ 0]. Hence b_{n+1} = f0(L_n) XOR (b_n ∧ d(L_n)), d = f0 XOR f1: a
/// segmented prefix XOR over bits, which <see cref="LcgBlocks"/> computes 64 items at a time. Where d(L_n) = 0 (a
/// "reset": both signs lead to the same next sign) b_{n+1} is known from L_n alone; for the shared programs'
/// constants (A mod 512 = 257) that is H ∈ {0, 256} for the top nine bits H of u, or L_{n+1} = 0, about one step
/// in 256 — but nothing here assumes it: d is computed for the given A, C, K.
///
/// Random access (<see cref="At"/>): L_n by jump-ahead, then back (A odd: L_{n−1} = A^{−1}(L_n − C) mod M) to the
/// last reset, and the sign forward from there. <see cref="RandomAccess"/> says whether that walk is bounded on an
/// orbit (the largest distance between resets over the orbit's period, found once per constants and orbit).
/// </summary>
public sealed class LcgRecurrence
{
    public int A { get; }
    public int C { get; }
    public int K { get; }
    public int M => 1 << K;
    internal uint Mask => (uint)M - 1;
    /// <summary>wrap32(A·M): what a sign bit b_n = 1 subtracts from A·L_n + C.</summary>
    internal int AM => unchecked(A * M);

    /// <summary>Largest distance between resets that random access accepts (a walk of at most twice this per access).</summary>
    public const int MaxGap = 1 << 14;

    /// <summary>Orbits are measured (for <see cref="RandomAccess"/>) only up to this many states.</summary>
    private const int MaxMeasuredK = 24;

    public LcgRecurrence(int a, int c, int k)
    {
        if (k < 1 || k > 30) throw new ArgumentOutOfRangeException(nameof(k), "M = 2^k needs 1 ≤ k ≤ 30");
        A = a;
        C = c;
        K = k;
    }

    /// <summary>One step, as the program computes it.</summary>
    public int Step(int s) => unchecked(A * s + C) % M;

    /// <summary>(A^j mod 2^32, C·(A^{j−1} + … + 1) mod 2^32): the affine map of j steps of L (mask with M − 1).</summary>
    internal (uint Mul, uint Add) Jump(long j)
    {
        uint mul = 1, add = 0, pm = (uint)A, pa = (uint)C;
        for (; j > 0; j >>= 1)
        {
            // Compose with the 2^i-step map (x → pm·x + pa) when bit i of j is set.
            if ((j & 1) != 0) (mul, add) = (unchecked(pm * mul), unchecked(pm * add + pa));
            (pm, pa) = (unchecked(pm * pm), unchecked(pm * pa + pa));
        }
        return (mul, add);
    }

    /// <summary>The next sign when the sign is 0 (f0), and whether the sign matters (d); L is the current low part.</summary>
    internal (bool F0, bool D) Signs(uint l)
    {
        int u = unchecked((int)((uint)A * l + (uint)C));
        if (((uint)u & Mask) == 0) return (false, false);
        bool f0 = u < 0, f1 = unchecked(u - AM) < 0;
        return (f0, f0 != f1);
    }

    /// <summary>The value after <paramref name="n"/> steps from <paramref name="s0"/>, without stepping n times.</summary>
    public int At(int s0, long n)
    {
        if (n == 0) return s0;
        int s1 = Step(s0);
        if (n == 1) return s1;
        if ((A & 1) == 0)
        {
            // Not invertible: stepped (callers use random access only where RandomAccess says it is bounded).
            for (long j = 1; j < n; j++) s1 = Step(s1);
            return s1;
        }
        uint mask = Mask, l1 = (uint)s1 & mask;
        var (mul, add) = Jump(n - 1);
        uint ln = unchecked(mul * l1 + add) & mask;
        // Back from n − 1 to the last reset m (or to step 1, whose sign is s1's).
        uint inv = Inverse((uint)A);
        long m = n - 1;
        uint lm = unchecked(inv * (ln - (uint)C)) & mask;
        bool b;
        long from;
        uint l;
        while (true)
        {
            if (m < 1) { b = s1 < 0; from = 1; l = l1; break; }
            var (f0, d) = Signs(lm);
            if (!d) { b = f0; from = m + 1; l = unchecked((uint)A * lm + (uint)C) & mask; break; }
            m--;
            lm = unchecked(inv * (lm - (uint)C)) & mask;
        }
        for (long j = from; j < n; j++)
        {
            var (f0, d) = Signs(l);
            b = f0 ^ (b & d);
            l = unchecked((uint)A * l + (uint)C) & mask;
        }
        return (int)l - (b ? M : 0);
    }

    /// <summary>The inverse of an odd number modulo 2^32 (Newton's iteration; each round doubles the correct bits).</summary>
    private static uint Inverse(uint a)
    {
        if ((a & 1) == 0) throw new InvalidOperationException("A is even: the recurrence cannot be stepped backwards");
        uint x = a;
        for (int i = 0; i < 5; i++) x = unchecked(x * (2 - a * x));
        return x;
    }

    private static readonly ConcurrentDictionary<(int, int, int, uint), int> Gaps = new();

    /// <summary>
    /// Whether <see cref="At"/> from <paramref name="s0"/> walks a bounded distance: A odd, K ≤ 24, and on the
    /// orbit of L_1 the largest distance between resets (cyclically, over its period) at most <see cref="MaxGap"/>.
    /// </summary>
    public bool RandomAccess(int s0) => (A & 1) != 0 && K <= MaxMeasuredK && WorstGap(s0) is > 0 and <= MaxGap;

    /// <summary>The largest distance between resets on the orbit of L_1 from <paramref name="s0"/>; 0 when it has none (or A is even, or K is too large to measure).</summary>
    public int WorstGap(int s0)
    {
        if ((A & 1) == 0 || K > MaxMeasuredK) return 0;
        uint start = (uint)Step(s0) & Mask;
        return Gaps.GetOrAdd((A, C, K, OrbitKey(start)), _ => MeasureGap(start));
    }

    /// <summary>The orbit's smallest state (the same for every state on it), so orbits are measured once.</summary>
    private uint OrbitKey(uint start)
    {
        // A full-period LCG (Hull–Dobell: C odd, A ≡ 1 mod 4) has one orbit; otherwise key by the start itself.
        return (C & 1) != 0 && (A & 3) == 1 ? 0 : start + 1;
    }

    private int MeasureGap(uint start)
    {
        uint mask = Mask, l = start;
        long first = -1, last = -1, worst = 0, i = 0;
        do
        {
            if (!Signs(l).D)
            {
                if (first < 0) first = i;
                else worst = Math.Max(worst, i - last);
                last = i;
            }
            l = unchecked((uint)A * l + (uint)C) & mask;
            i++;
        } while (l != start);
        if (first < 0) return 0;
        worst = Math.Max(worst, i - last + first);
        return (int)Math.Min(worst, int.MaxValue);
    }
}
