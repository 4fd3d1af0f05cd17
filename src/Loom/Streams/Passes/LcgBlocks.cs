using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Streams.Passes;

/// <summary>
/// The values of an <see cref="LcgRecurrence"/> 64 at a time without its serial chain (what the one-core code of a
/// recognised <see cref="RecurrenceSource"/> calls). For a block starting at s_n = L_n − M·b_n: the 64 low parts
/// L_{n+i} = (A^i·L_n + C_i) mod M come from tables of the jump-ahead maps (independent lanes, no chain); the sign
/// machine's inputs f0 and d of all 64 become two 64-bit words, and the signs are their segmented prefix XOR
/// (<see cref="LcgRecurrence"/>): a prefix XOR of f0 (six shifts), corrected at each reset (about one a word); the
/// block's bits then select M to subtract lane by lane. The only chain is the block's L and sign, once per 64.
/// Without 256-bit vectors the values are stepped one by one.
/// </summary>
public sealed class LcgBlocks
{
    private readonly LcgRecurrence _r;
    // Jump-ahead maps for 0…72 steps (A^i and C·(A^{i−1} + … + 1), mod 2^32): lane j of group g is entry 8g + j (+1).
    private readonly int[] _mul = new int[73], _add = new int[73];

    public LcgBlocks(LcgRecurrence r)
    {
        _r = r;
        for (int i = 0; i < _mul.Length; i++) (_mul[i], _add[i]) = ((int)r.Jump(i).Mul, (int)r.Jump(i).Add);
    }

    public LcgRecurrence Recurrence => _r;

    /// <summary>
    /// Writes the values of <paramref name="dst"/>.Length firings, starting from the state <paramref name="s"/>
    /// (the field before the first firing), and leaves the state after them in <paramref name="s"/>. Item i is
    /// s_{n+i} (<paramref name="after"/> false: pushed before the update) or s_{n+i+1} (pushed after it), its
    /// absolute value when <paramref name="abs"/>.
    /// </summary>
    public void Fill(Span<int> dst, ref int s, bool after, bool abs)
    {
        int i = 0;
        if (!InRange(s) && dst.Length > 0)
        {
            // Only a first value can lie outside (−M, M) (an initial seed); one serial firing brings it in.
            int next = _r.Step(s);
            dst[i++] = Out(after ? next : s, abs);
            s = next;
        }
        if (!Vector256.IsHardwareAccelerated)
        {
            for (; i < dst.Length; i++)
            {
                int next = _r.Step(s);
                dst[i] = Out(after ? next : s, abs);
                s = next;
            }
            return;
        }
        uint l = (uint)s & _r.Mask;
        bool b = s < 0;
        for (; i < dst.Length; i += 64) Block(dst[i..Math.Min(dst.Length, i + 64)], ref l, ref b, after, abs);
        s = (int)l - (b ? _r.M : 0);
    }

    /// <summary><see cref="Fill(Span{int}, ref int, bool, bool)"/> into a float stream (the int values converted, as the program's push converts them).</summary>
    public void Fill(Span<float> dst, ref int s, bool after, bool abs)
    {
        Span<int> block = stackalloc int[64];
        for (int i = 0; i < dst.Length; i += 64)
        {
            var part = block[..Math.Min(64, dst.Length - i)];
            Fill(part, ref s, after, abs);
            var d = dst[i..];
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; j + 8 <= part.Length; j += 8)
                    Vector256.ConvertToSingle(Vector256.Create(part[j..])).CopyTo(d[j..]);
            for (; j < part.Length; j++) d[j] = part[j];
        }
    }

    private bool InRange(int s) => s > -_r.M && s < _r.M;

    private static int Out(int v, bool abs) => abs && v < 0 ? -v : v;

    private void Block(Span<int> dst, ref uint l, ref bool b, bool after, bool abs)
    {
        var mask = Vector256.Create((int)_r.Mask);
        var a = Vector256.Create(_r.A);
        var c = Vector256.Create(_r.C);
        var am = Vector256.Create(_r.AM);
        var lv = Vector256.Create((int)l);
        ref int mul = ref _mul[0], add = ref _add[0];
        // Pass 1: for the steps n … n+63, the signs of u = A·L + C and u − A·M, and whether L_{next} = 0.
        ulong s0 = 0, s1 = 0, z = 0;
        for (int g = 0; g < 8; g++)
        {
            var lg = (Vector256.LoadUnsafe(ref mul, (nuint)(8 * g)) * lv + Vector256.LoadUnsafe(ref add, (nuint)(8 * g))) & mask;
            var u = lg * a + c;
            s0 |= (ulong)u.ExtractMostSignificantBits() << (8 * g);
            s1 |= (ulong)(u - am).ExtractMostSignificantBits() << (8 * g);
            z |= (ulong)Vector256.Equals(u & mask, Vector256<int>.Zero).ExtractMostSignificantBits() << (8 * g);
        }
        ulong f0 = s0 & ~z, d = (s0 ^ s1) & ~z;
        // Bit i of next: b_{n+i+1} = f0_i XOR … back to the last reset r ≤ i (where it is f0_r), or XOR b_n.
        ulong p = f0;
        p ^= p << 1; p ^= p << 2; p ^= p << 4; p ^= p << 8; p ^= p << 16; p ^= p << 32;
        ulong q = b ? ~0UL : 0;
        for (ulong resets = ~d; resets != 0; resets &= resets - 1)
        {
            int r = BitOperations.TrailingZeroCount(resets);
            ulong high = ~0UL << r;
            bool before = r > 0 && ((p >> (r - 1)) & 1) != 0;
            q = (q & ~high) | (before ? high : 0);
        }
        ulong next = p ^ q;
        // Pass 2: item i's sign and low part (the value before the firing's update, or after it).
        ulong bits = after ? next : next << 1 | (b ? 1UL : 0);
        int shift = after ? 1 : 0;
        var m = Vector256.Create(_r.M);
        var lane = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
        Span<int> tail = stackalloc int[8];
        for (int g = 0; 8 * g < dst.Length; g++)
        {
            var lg = (Vector256.LoadUnsafe(ref mul, (nuint)(8 * g + shift)) * lv + Vector256.LoadUnsafe(ref add, (nuint)(8 * g + shift))) & mask;
            var neg = Vector256.Equals(Vector256.Create((int)(bits >> (8 * g)) & 0xFF) & lane, lane);
            var v = lg - (neg & m);
            if (abs) v = Vector256.Abs(v);
            if (8 * g + 8 <= dst.Length) v.StoreUnsafe(ref dst[8 * g]);
            else
            {
                v.CopyTo(tail);
                tail[..(dst.Length - 8 * g)].CopyTo(dst[(8 * g)..]);
            }
        }
        int n = dst.Length;
        l = unchecked((uint)_mul[n] * l + (uint)_add[n]) & _r.Mask;
        b = n == 64 ? (next >> 63) != 0 : ((next >> (n - 1)) & 1) != 0;
    }
}
