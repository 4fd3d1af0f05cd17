using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>What a float64 sum adds for each element: x, x², |x|, (x - mean)².</summary>
internal interface IDoubleTerm
{
    double Invoke(double x);
    Vector128<double> Invoke(Vector128<double> x);
    Vector256<double> Invoke(Vector256<double> x);
    Vector512<double> Invoke(Vector512<double> x);
}

/// <summary>
/// SIMD folds of float32 runs that accumulate in float64, as the reference reductions do: each vector of
/// floats is widened to two vectors of doubles and added into four independent accumulators (so the adds
/// pipeline). Widening costs nothing once the run is larger than the cache, and keeps the sums within a
/// few float64 ulps of the reference's sequential ones. Each loop is in a method of its own with no calls
/// (terms inline), so the JIT keeps the accumulators in registers.
/// </summary>
internal static class ReduceVector
{
    public readonly struct Value : IDoubleTerm
    {
        public double Invoke(double x) => x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<double> Invoke(Vector128<double> x) => x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<double> Invoke(Vector256<double> x) => x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<double> Invoke(Vector512<double> x) => x;
    }

    public readonly struct Square : IDoubleTerm
    {
        public double Invoke(double x) => x * x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<double> Invoke(Vector128<double> x) => x * x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<double> Invoke(Vector256<double> x) => x * x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<double> Invoke(Vector512<double> x) => x * x;
    }

    public readonly struct Magnitude : IDoubleTerm
    {
        public double Invoke(double x) => Math.Abs(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<double> Invoke(Vector128<double> x) => Vector128.Abs(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<double> Invoke(Vector256<double> x) => Vector256.Abs(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<double> Invoke(Vector512<double> x) => Vector512.Abs(x);
    }

    /// <summary>(x - mean)², the second pass of a two-pass variance.</summary>
    public readonly struct SquaredDeviation(double mean) : IDoubleTerm
    {
        public double Invoke(double x) { double d = x - mean; return d * d; }
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<double> Invoke(Vector128<double> x) { var d = x - Vector128.Create(mean); return d * d; }
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<double> Invoke(Vector256<double> x) { var d = x - Vector256.Create(mean); return d * d; }
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<double> Invoke(Vector512<double> x) { var d = x - Vector512.Create(mean); return d * d; }
    }

    /// <summary>Σ term(x[i]) in float64.</summary>
    public static double Sum<TTerm>(ReadOnlySpan<float> x, TTerm term) where TTerm : struct, IDoubleTerm
    {
        if (Vector512.IsHardwareAccelerated && x.Length >= 64) return Sum512(x, term);
        if (Vector256.IsHardwareAccelerated && x.Length >= 32) return Sum256(x, term);
        if (Vector128.IsHardwareAccelerated && x.Length >= 16) return Sum128(x, term);
        double s = 0;
        foreach (float v in x) s += term.Invoke(v);
        return s;
    }

    private static double Sum512<TTerm>(ReadOnlySpan<float> x, TTerm term) where TTerm : struct, IDoubleTerm
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length, i = 0;
        Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
        for (; i + 32 <= n; i += 32)
        {
            var (l0, h0) = Vector512.Widen(Vector512.LoadUnsafe(ref p, i));
            var (l1, h1) = Vector512.Widen(Vector512.LoadUnsafe(ref p, i + 16));
            a0 += term.Invoke(l0);
            a1 += term.Invoke(h0);
            a2 += term.Invoke(l1);
            a3 += term.Invoke(h1);
        }
        double s = Vector512.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += term.Invoke(Unsafe.Add(ref p, i));
        return s;
    }

    private static double Sum256<TTerm>(ReadOnlySpan<float> x, TTerm term) where TTerm : struct, IDoubleTerm
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length, i = 0;
        Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
        for (; i + 16 <= n; i += 16)
        {
            var (l0, h0) = Vector256.Widen(Vector256.LoadUnsafe(ref p, i));
            var (l1, h1) = Vector256.Widen(Vector256.LoadUnsafe(ref p, i + 8));
            a0 += term.Invoke(l0);
            a1 += term.Invoke(h0);
            a2 += term.Invoke(l1);
            a3 += term.Invoke(h1);
        }
        double s = Vector256.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += term.Invoke(Unsafe.Add(ref p, i));
        return s;
    }

    private static double Sum128<TTerm>(ReadOnlySpan<float> x, TTerm term) where TTerm : struct, IDoubleTerm
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length, i = 0;
        Vector128<double> a0 = default, a1 = default, a2 = default, a3 = default;
        for (; i + 8 <= n; i += 8)
        {
            var (l0, h0) = Vector128.Widen(Vector128.LoadUnsafe(ref p, i));
            var (l1, h1) = Vector128.Widen(Vector128.LoadUnsafe(ref p, i + 4));
            a0 += term.Invoke(l0);
            a1 += term.Invoke(h0);
            a2 += term.Invoke(l1);
            a3 += term.Invoke(h1);
        }
        double s = Vector128.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += term.Invoke(Unsafe.Add(ref p, i));
        return s;
    }

    /// <summary>acc[j] += term(row[j]) in float64 (a reduction over an outer axis, one input row at a time).</summary>
    public static void Accumulate<TTerm>(ReadOnlySpan<float> row, Span<double> acc, TTerm term) where TTerm : struct, IDoubleTerm
    {
        if (acc.Length < row.Length) throw new ArgumentException("accumulator shorter than the row", nameof(acc));
        ref float p = ref MemoryMarshal.GetReference(row);
        ref double a = ref MemoryMarshal.GetReference(acc);
        nuint n = (nuint)row.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref p, i));
                (Vector512.LoadUnsafe(ref a, i) + term.Invoke(lo)).StoreUnsafe(ref a, i);
                (Vector512.LoadUnsafe(ref a, i + 8) + term.Invoke(hi)).StoreUnsafe(ref a, i + 8);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref p, i));
                (Vector256.LoadUnsafe(ref a, i) + term.Invoke(lo)).StoreUnsafe(ref a, i);
                (Vector256.LoadUnsafe(ref a, i + 4) + term.Invoke(hi)).StoreUnsafe(ref a, i + 4);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= n; i += 4)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref p, i));
                (Vector128.LoadUnsafe(ref a, i) + term.Invoke(lo)).StoreUnsafe(ref a, i);
                (Vector128.LoadUnsafe(ref a, i + 2) + term.Invoke(hi)).StoreUnsafe(ref a, i + 2);
            }
        for (; i < n; i++) Unsafe.Add(ref a, i) += term.Invoke(Unsafe.Add(ref p, i));
    }

    /// <summary>
    /// op folded over the run from <paramref name="identity"/>: with Max or Min, the largest or smallest
    /// element, NaN if any is NaN (as the reference's Math.Max fold), the identity for an empty run.
    /// </summary>
    public static float Fold<TOp>(ReadOnlySpan<float> x, TOp op, float identity) where TOp : struct, IVectorBinaryOp<float>
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length, i = 0;
        float r = identity;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> a0 = Vector512.Create(identity), a1 = a0, a2 = a0, a3 = a0;
            for (; i + 64 <= n; i += 64)
            {
                a0 = op.Invoke(a0, Vector512.LoadUnsafe(ref p, i));
                a1 = op.Invoke(a1, Vector512.LoadUnsafe(ref p, i + 16));
                a2 = op.Invoke(a2, Vector512.LoadUnsafe(ref p, i + 32));
                a3 = op.Invoke(a3, Vector512.LoadUnsafe(ref p, i + 48));
            }
            var a = op.Invoke(op.Invoke(a0, a1), op.Invoke(a2, a3));
            for (int k = 0; k < 16; k++) r = op.Invoke(r, a[k]);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            Vector256<float> a0 = Vector256.Create(identity), a1 = a0, a2 = a0, a3 = a0;
            for (; i + 32 <= n; i += 32)
            {
                a0 = op.Invoke(a0, Vector256.LoadUnsafe(ref p, i));
                a1 = op.Invoke(a1, Vector256.LoadUnsafe(ref p, i + 8));
                a2 = op.Invoke(a2, Vector256.LoadUnsafe(ref p, i + 16));
                a3 = op.Invoke(a3, Vector256.LoadUnsafe(ref p, i + 24));
            }
            var a = op.Invoke(op.Invoke(a0, a1), op.Invoke(a2, a3));
            for (int k = 0; k < 8; k++) r = op.Invoke(r, a[k]);
        }
        else if (Vector128.IsHardwareAccelerated && n >= 4)
        {
            var a = Vector128.Create(identity);
            for (; i + 4 <= n; i += 4) a = op.Invoke(a, Vector128.LoadUnsafe(ref p, i));
            for (int k = 0; k < 4; k++) r = op.Invoke(r, a[k]);
        }
        for (; i < n; i++) r = op.Invoke(r, Unsafe.Add(ref p, i));
        return r;
    }
}
