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
    /// absolute value when <paramref name="abs"/>; into a float stream converted, as the program's push converts it.
    /// </summary>
    public void Fill<T>(Span<T> dst, ref int s, bool after, bool abs) where T : unmanaged
    {
        if (typeof(T) != typeof(int) && typeof(T) != typeof(float)) throw new NotSupportedException(typeof(T).Name);
        int i = 0;
        if (!InRange(s) && dst.Length > 0)
        {
            // Only a first value can lie outside (−M, M) (an initial seed); one serial firing brings it in.
            int next = _r.Step(s);
            dst[i++] = Item<T>(Out(after ? next : s, abs));
            s = next;
        }
        if (!Vector256.IsHardwareAccelerated)
        {
            for (; i < dst.Length; i++)
            {
                int next = _r.Step(s);
                dst[i] = Item<T>(Out(after ? next : s, abs));
                s = next;
            }
            return;
        }
        uint l = (uint)s & _r.Mask;
        bool b = s < 0;
        for (; i < dst.Length; i += 64) Block(dst[i..Math.Min(dst.Length, i + 64)], ref l, ref b, after, abs);
        s = (int)l - (b ? _r.M : 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Item<T>(int v) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) { float f = v; return Unsafe.As<float, T>(ref f); }
        return Unsafe.As<int, T>(ref v);
    }

    private bool InRange(int s) => s > -_r.M && s < _r.M;

    private static int Out(int v, bool abs) => abs && v < 0 ? -v : v;

    private void Block<T>(Span<T> dst, ref uint l, ref bool b, bool after, bool abs) where T : unmanaged
    {
        // Pass 1: for the steps n … n+63, the low parts (kept for pass 2, with L_{n+64}), and the sign machine's inputs.
        Span<int> low = stackalloc int[80];
        var (f0, d) = Vector512.IsHardwareAccelerated ? Signs512(l, low) : Signs256(l, low);
        low[64] = (int)(unchecked((uint)_mul[64] * l + (uint)_add[64]) & _r.Mask);
        ulong next = Scan(f0, d, b);
        // Pass 2: item i's sign and low part (the value before the firing's update, or after it).
        ulong bits = after ? next : next << 1 | (b ? 1UL : 0);
        var lows = low[(after ? 1 : 0)..];
        if (Vector512.IsHardwareAccelerated) Values512(dst, lows, bits, abs);
        else Values256(dst, lows, bits, abs);
        int n = dst.Length;
        l = (uint)low[n];
        b = ((next >> (n - 1)) & 1) != 0;
    }

    /// <summary>
    /// Bit i: b_{n+i+1} = f0_i XOR … back to the last reset r ≤ i (where it is f0_r), or XOR b_n when there is none:
    /// the prefix XOR of f0, with the part before each reset (d = 0) replaced.
    /// </summary>
    private static ulong Scan(ulong f0, ulong d, bool b)
    {
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
        return p ^ q;
    }

    /// <summary>For the 64 steps from L: L_{n+i} into <paramref name="low"/>; f0 = [u &lt; 0] ∧ [L_{next} ≠ 0] and d = f0 XOR f1 as bit words (<see cref="LcgRecurrence"/>).</summary>
    private (ulong F0, ulong D) Signs256(uint l, Span<int> low)
    {
        var mask = Vector256.Create((int)_r.Mask);
        var a = Vector256.Create(_r.A);
        var c = Vector256.Create(_r.C);
        var am = Vector256.Create(_r.AM);
        var lv = Vector256.Create((int)l);
        ref int mul = ref _mul[0], add = ref _add[0], lows = ref low[0];
        ulong s0 = 0, s1 = 0, z = 0;
        for (int g = 0; g < 8; g++)
        {
            var lg = (Vector256.LoadUnsafe(ref mul, (nuint)(8 * g)) * lv + Vector256.LoadUnsafe(ref add, (nuint)(8 * g))) & mask;
            lg.StoreUnsafe(ref lows, (nuint)(8 * g));
            var u = lg * a + c;
            s0 |= (ulong)u.ExtractMostSignificantBits() << (8 * g);
            s1 |= (ulong)(u - am).ExtractMostSignificantBits() << (8 * g);
            z |= (ulong)Vector256.Equals(u & mask, Vector256<int>.Zero).ExtractMostSignificantBits() << (8 * g);
        }
        return (s0 & ~z, (s0 ^ s1) & ~z);
    }

    private (ulong F0, ulong D) Signs512(uint l, Span<int> low)
    {
        var mask = Vector512.Create((int)_r.Mask);
        var a = Vector512.Create(_r.A);
        var c = Vector512.Create(_r.C);
        var am = Vector512.Create(_r.AM);
        var lv = Vector512.Create((int)l);
        ref int mul = ref _mul[0], add = ref _add[0], lows = ref low[0];
        ulong s0 = 0, s1 = 0, z = 0;
        for (int g = 0; g < 4; g++)
        {
            var lg = (Vector512.LoadUnsafe(ref mul, (nuint)(16 * g)) * lv + Vector512.LoadUnsafe(ref add, (nuint)(16 * g))) & mask;
            lg.StoreUnsafe(ref lows, (nuint)(16 * g));
            var u = lg * a + c;
            s0 |= u.ExtractMostSignificantBits() << (16 * g);
            s1 |= (u - am).ExtractMostSignificantBits() << (16 * g);
            z |= Vector512.Equals(u & mask, Vector512<int>.Zero).ExtractMostSignificantBits() << (16 * g);
        }
        return (s0 & ~z, (s0 ^ s1) & ~z);
    }

    /// <summary>Item i = L_i − M·bit i of <paramref name="bits"/> (its absolute value when <paramref name="abs"/>), stored as int or float.</summary>
    private void Values256<T>(Span<T> dst, Span<int> low, ulong bits, bool abs) where T : unmanaged
    {
        var m = Vector256.Create(_r.M);
        var lane = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
        ref int lows = ref low[0];
        for (int g = 0; 8 * g < dst.Length; g++)
        {
            var neg = Vector256.Equals(Vector256.Create((int)(bits >> (8 * g)) & 0xFF) & lane, lane);
            var v = Vector256.LoadUnsafe(ref lows, (nuint)(8 * g)) - (neg & m);
            if (abs) v = Vector256.Abs(v);
            if (8 * g + 8 <= dst.Length)
            {
                ref T at = ref dst[8 * g];
                if (typeof(T) == typeof(float)) Vector256.ConvertToSingle(v).StoreUnsafe(ref Unsafe.As<T, float>(ref at));
                else v.StoreUnsafe(ref Unsafe.As<T, int>(ref at));
            }
            else
                for (int j = 8 * g; j < dst.Length; j++) dst[j] = Item<T>(v.GetElement(j - 8 * g));
        }
    }

    private void Values512<T>(Span<T> dst, Span<int> low, ulong bits, bool abs) where T : unmanaged
    {
        var m = Vector512.Create(_r.M);
        var lane = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
        ref int lows = ref low[0];
        for (int g = 0; 16 * g < dst.Length; g++)
        {
            var neg = Vector512.Equals(Vector512.Create((int)(bits >> (16 * g)) & 0xFFFF) & lane, lane);
            var v = Vector512.LoadUnsafe(ref lows, (nuint)(16 * g)) - (neg & m);
            if (abs) v = Vector512.Abs(v);
            if (16 * g + 16 <= dst.Length)
            {
                ref T at = ref dst[16 * g];
                if (typeof(T) == typeof(float)) Vector512.ConvertToSingle(v).StoreUnsafe(ref Unsafe.As<T, float>(ref at));
                else v.StoreUnsafe(ref Unsafe.As<T, int>(ref at));
            }
            else
                for (int j = 16 * g; j < dst.Length; j++) dst[j] = Item<T>(v.GetElement(j - 16 * g));
        }
    }
}
