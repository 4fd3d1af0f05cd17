using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loom.Streams.CodeGen;

/// <summary>A comparison, as a vector compare (all-ones lanes where it holds) and as a scalar one.</summary>
public interface ICountCompare
{
    static abstract Vector256<T> Vector<T>(Vector256<T> a, Vector256<T> x);
    static abstract bool Scalar<T>(T a, T x) where T : IComparisonOperators<T, T, bool>;
}

/// <summary>
/// How many of <c>n</c> consecutive items compare true against one value: the compiled form of a counting loop
/// (<c>for (i…) if (peek(i) &lt; mine) count++;</c>, ComparisonCounting's inner loop). The count is an integer
/// sum, so counting 8 lanes at a time gives exactly the loop's result; gcc makes the rival's loop one AVX2
/// compare per 8 items the same way. Items are 4 bytes (int or float), so a compare's lane mask is −1 or 0.
/// </summary>
public static class VectorCount
{
    public readonly struct Lt : ICountCompare
    {
        public static Vector256<T> Vector<T>(Vector256<T> a, Vector256<T> x) => Vector256.LessThan(a, x);
        public static bool Scalar<T>(T a, T x) where T : IComparisonOperators<T, T, bool> => a < x;
    }

    public readonly struct Le : ICountCompare
    {
        public static Vector256<T> Vector<T>(Vector256<T> a, Vector256<T> x) => Vector256.LessThanOrEqual(a, x);
        public static bool Scalar<T>(T a, T x) where T : IComparisonOperators<T, T, bool> => a <= x;
    }

    public readonly struct Gt : ICountCompare
    {
        public static Vector256<T> Vector<T>(Vector256<T> a, Vector256<T> x) => Vector256.GreaterThan(a, x);
        public static bool Scalar<T>(T a, T x) where T : IComparisonOperators<T, T, bool> => a > x;
    }

    public readonly struct Ge : ICountCompare
    {
        public static Vector256<T> Vector<T>(Vector256<T> a, Vector256<T> x) => Vector256.GreaterThanOrEqual(a, x);
        public static bool Scalar<T>(T a, T x) where T : IComparisonOperators<T, T, bool> => a >= x;
    }

    public readonly struct Eq : ICountCompare
    {
        public static Vector256<T> Vector<T>(Vector256<T> a, Vector256<T> x) => Vector256.Equals(a, x);
        public static bool Scalar<T>(T a, T x) where T : IComparisonOperators<T, T, bool> => a == x;
    }

    // a != x is the complement of a == x for floats too (NaN: == false, != true), as in C#.
    public readonly struct Ne : ICountCompare
    {
        public static Vector256<T> Vector<T>(Vector256<T> a, Vector256<T> x) => ~Vector256.Equals(a, x);
        public static bool Scalar<T>(T a, T x) where T : IComparisonOperators<T, T, bool> => a != x;
    }

    /// <summary>How many of <paramref name="a"/>[start … start+n) compare true against <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Count<T, TOp>(T[] a, int start, int n, T x)
        where T : unmanaged, IComparisonOperators<T, T, bool> where TOp : ICountCompare
    {
        // The loop it replaces would have failed on the first item out of range; so does this, before reading.
        if ((uint)start > (uint)a.Length || (uint)n > (uint)(a.Length - start)) throw new IndexOutOfRangeException();
        ref T r = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(a), start);
        int i = 0, count = 0;
        if (Vector256.IsHardwareAccelerated && Unsafe.SizeOf<T>() == 4 && n >= Vector256<T>.Count)
        {
            var vx = Vector256.Create(x);
            var acc = Vector256<int>.Zero;
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                acc -= TOp.Vector(Vector256.LoadUnsafe(ref r, (nuint)i), vx).AsInt32();
            count = Vector256.Sum(acc);
        }
        for (; i < n; i++) count += TOp.Scalar(Unsafe.Add(ref r, i), x) ? 1 : 0;
        return count;
    }
}
