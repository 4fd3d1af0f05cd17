using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// SIMD row loops of the normalizations and Softmax on float32 rows. The arithmetic after the statistics
/// runs in float64 lanes (a float vector widened to two double vectors, narrowed back at the end) in the
/// reference kernels' order, so each output is rounded once, as there. They use 256-bit vectors at most
/// (one path fewer to keep; a 512-bit one is for when a measurement shows it pays).
/// </summary>
internal static class NormalizationVector
{
    /// <summary>y[j] = ((x[j] - mean)·inv)·scale[j] + bias[j] in float64, rounded to float32.</summary>
    public static void Normalize(ReadOnlySpan<float> x, Span<float> y, double mean, double inv, ReadOnlySpan<double> scale, ReadOnlySpan<double> bias)
    {
        int n = x.Length;
        if (y.Length < n || scale.Length < n || bias.Length < n) throw new ArgumentException("row operands shorter than the row");
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        ref double s = ref MemoryMarshal.GetReference(scale);
        ref double b = ref MemoryMarshal.GetReference(bias);
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> m = Vector256.Create(mean), k = Vector256.Create(inv);
            for (; i + 8 <= (nuint)n; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xs, i));
                lo = (lo - m) * k * Vector256.LoadUnsafe(ref s, i) + Vector256.LoadUnsafe(ref b, i);
                hi = (hi - m) * k * Vector256.LoadUnsafe(ref s, i + 4) + Vector256.LoadUnsafe(ref b, i + 4);
                Vector256.Narrow(lo, hi).StoreUnsafe(ref ys, i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<double> m = Vector128.Create(mean), k = Vector128.Create(inv);
            for (; i + 4 <= (nuint)n; i += 4)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref xs, i));
                lo = (lo - m) * k * Vector128.LoadUnsafe(ref s, i) + Vector128.LoadUnsafe(ref b, i);
                hi = (hi - m) * k * Vector128.LoadUnsafe(ref s, i + 2) + Vector128.LoadUnsafe(ref b, i + 2);
                Vector128.Narrow(lo, hi).StoreUnsafe(ref ys, i);
            }
        }
        for (; i < (nuint)n; i++) Unsafe.Add(ref ys, i) = (float)((Unsafe.Add(ref xs, i) - mean) * inv * Unsafe.Add(ref s, i) + Unsafe.Add(ref b, i));
    }

    /// <summary>y[j] = ((x[j] - mean)·inv)·scale + bias with one scale and bias for the whole row (a channel of InstanceNormalization).</summary>
    public static void Normalize(ReadOnlySpan<float> x, Span<float> y, double mean, double inv, double scale, double bias)
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException("output shorter than the row", nameof(y));
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> m = Vector256.Create(mean), k = Vector256.Create(inv), s = Vector256.Create(scale), b = Vector256.Create(bias);
            for (; i + 8 <= (nuint)n; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xs, i));
                Vector256.Narrow((lo - m) * k * s + b, (hi - m) * k * s + b).StoreUnsafe(ref ys, i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<double> m = Vector128.Create(mean), k = Vector128.Create(inv), s = Vector128.Create(scale), b = Vector128.Create(bias);
            for (; i + 4 <= (nuint)n; i += 4)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref xs, i));
                Vector128.Narrow((lo - m) * k * s + b, (hi - m) * k * s + b).StoreUnsafe(ref ys, i);
            }
        }
        for (; i < (nuint)n; i++) Unsafe.Add(ref ys, i) = (float)((Unsafe.Add(ref xs, i) - mean) * inv * scale + bias);
    }

    /// <summary>
    /// y[j] = e^(x[j] - max) in float32 (Softmax's numerators along a row); returns their float64 sum.
    /// </summary>
    public static double ExpShifted(ReadOnlySpan<float> x, Span<float> y, float max)
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException("output shorter than the row", nameof(y));
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        nuint i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(-max);
            Vector256<double> a0 = default, a1 = default;
            for (; i + 8 <= (nuint)n; i += 8)
            {
                var e = ExpPlus<Vector256<float>, Lanes256>(Vector256.LoadUnsafe(ref xs, i), m);
                e.StoreUnsafe(ref ys, i);
                var (lo, hi) = Vector256.Widen(e);
                a0 += lo;
                a1 += hi;
            }
            sum = Vector256.Sum(a0 + a1);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var m = Vector128.Create(-max);
            Vector128<double> a0 = default, a1 = default;
            for (; i + 4 <= (nuint)n; i += 4)
            {
                var e = ExpPlus<Vector128<float>, Lanes128>(Vector128.LoadUnsafe(ref xs, i), m);
                e.StoreUnsafe(ref ys, i);
                var (lo, hi) = Vector128.Widen(e);
                a0 += lo;
                a1 += hi;
            }
            sum = Vector128.Sum(a0 + a1);
        }
        for (; i < (nuint)n; i++)
        {
            // One lane of the vector form, so a row's tail agrees with its body.
            float e = ExpPlus<Vector128<float>, Lanes128>(Vector128.CreateScalarUnsafe(Unsafe.Add(ref xs, i)), Vector128.CreateScalarUnsafe(-max)).ToScalar();
            Unsafe.Add(ref ys, i) = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>
    /// y[j] = e^(x[j] - max[j]) and sums[j] += y[j] in float64: Softmax's numerators along an outer axis,
    /// one row of the reduced axis at a time.
    /// </summary>
    public static void ExpShifted(ReadOnlySpan<float> x, ReadOnlySpan<float> max, Span<float> y, Span<double> sums)
    {
        int n = x.Length;
        if (max.Length < n || y.Length < n || sums.Length < n) throw new ArgumentException("row operands shorter than the row");
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ms = ref MemoryMarshal.GetReference(max);
        ref float ys = ref MemoryMarshal.GetReference(y);
        ref double ss = ref MemoryMarshal.GetReference(sums);
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= (nuint)n; i += 8)
            {
                var e = ExpPlus<Vector256<float>, Lanes256>(Vector256.LoadUnsafe(ref xs, i), -Vector256.LoadUnsafe(ref ms, i));
                e.StoreUnsafe(ref ys, i);
                var (lo, hi) = Vector256.Widen(e);
                (Vector256.LoadUnsafe(ref ss, i) + lo).StoreUnsafe(ref ss, i);
                (Vector256.LoadUnsafe(ref ss, i + 4) + hi).StoreUnsafe(ref ss, i + 4);
            }
        for (; i < (nuint)n; i++)
        {
            float e = ExpPlus<Vector128<float>, Lanes128>(Vector128.CreateScalarUnsafe(Unsafe.Add(ref xs, i)), Vector128.CreateScalarUnsafe(-Unsafe.Add(ref ms, i))).ToScalar();
            Unsafe.Add(ref ys, i) = e;
            Unsafe.Add(ref ss, i) += e;
        }
    }

    /// <summary>
    /// e^(x + m) with m = -max. x + m is rarely exact in float32 (its rounding error, up to half an ulp of
    /// 16 for a spread of 16, would cost 16 ulps of the result), so the error is recovered exactly
    /// (TwoSum) and applied as e·(1 + err); it is 0 where x or max is infinite (err NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ExpPlus<TV, L>(TV x, TV m) where TV : struct where L : IFloatLanes<TV>
    {
        var d = L.Add(x, m);
        var xr = L.Sub(d, m);
        var err = L.Add(L.Sub(x, xr), L.Sub(m, L.Sub(d, xr)));
        err = L.Select(L.GreaterThanOrEqual(L.Abs(err), L.Create(0f)), err, L.Create(0f));
        var e = VectorMath.Exp<TV, L>(d);
        return L.Fma(e, err, e);
    }

    /// <summary>y[j] = x[j]·factor (Softmax's division by the sum), or with <paramref name="subtract"/> x[j] - factor (LogSoftmax), in float64 rounded once.</summary>
    public static void Affine(ReadOnlySpan<float> x, Span<float> y, double factor, bool subtract)
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException("output shorter than the row", nameof(y));
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var f = Vector256.Create(factor);
            for (; i + 8 <= (nuint)n; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xs, i));
                (subtract ? Vector256.Narrow(lo - f, hi - f) : Vector256.Narrow(lo * f, hi * f)).StoreUnsafe(ref ys, i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var f = Vector128.Create(factor);
            for (; i + 4 <= (nuint)n; i += 4)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref xs, i));
                (subtract ? Vector128.Narrow(lo - f, hi - f) : Vector128.Narrow(lo * f, hi * f)).StoreUnsafe(ref ys, i);
            }
        }
        for (; i < (nuint)n; i++) Unsafe.Add(ref ys, i) = (float)(subtract ? Unsafe.Add(ref xs, i) - factor : Unsafe.Add(ref xs, i) * factor);
    }

    /// <summary>y[j] = x[j]·factors[j], or with <paramref name="subtract"/> x[j] - factors[j], in float64 rounded once (Softmax along an outer axis).</summary>
    public static void Affine(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<double> factors, bool subtract)
    {
        int n = x.Length;
        if (y.Length < n || factors.Length < n) throw new ArgumentException("row operands shorter than the row");
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        ref double fs = ref MemoryMarshal.GetReference(factors);
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= (nuint)n; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xs, i));
                Vector256<double> f0 = Vector256.LoadUnsafe(ref fs, i), f1 = Vector256.LoadUnsafe(ref fs, i + 4);
                (subtract ? Vector256.Narrow(lo - f0, hi - f1) : Vector256.Narrow(lo * f0, hi * f1)).StoreUnsafe(ref ys, i);
            }
        for (; i < (nuint)n; i++)
        {
            double v = Unsafe.Add(ref xs, i), f = Unsafe.Add(ref fs, i);
            Unsafe.Add(ref ys, i) = (float)(subtract ? v - f : v * f);
        }
    }
}
