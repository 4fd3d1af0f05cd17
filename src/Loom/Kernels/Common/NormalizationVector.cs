using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// SIMD row loops of the normalizations and Softmax on float32 rows. The arithmetic after the statistics
/// runs in float64 lanes (a float vector widened to two double vectors, narrowed back at the end) in the
/// reference kernels' order, so each output is rounded once, as there. They use 256-bit vectors at most:
/// the widening halves the work per instruction, and 512-bit lanes measured no faster on these loops.
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
    /// y[j] = e^(x[j] - max) in float32 (Softmax's numerators); returns their float64 sum. x - max is rarely
    /// exact in float32 (its rounding error, up to half an ulp of 16 for a spread of 16, would cost 16 ulps
    /// of e^(x-max)), so the error is recovered exactly (TwoSum) and applied as e·(1 + err).
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
                var v = Vector256.LoadUnsafe(ref xs, i);
                var d = v + m;
                var vr = d - m;
                var err = (v - vr) + (m - (d - vr));
                err &= Vector256.Equals(err, err); // 0 where x or max is infinite (err NaN)
                var e = VectorMath.Exp<Vector256<float>, Lanes256>(d);
                e = Vector256.FusedMultiplyAdd(e, err, e);
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
                var v = Vector128.LoadUnsafe(ref xs, i);
                var d = v + m;
                var vr = d - m;
                var err = (v - vr) + (m - (d - vr));
                err &= Vector128.Equals(err, err);
                var e = VectorMath.Exp<Vector128<float>, Lanes128>(d);
                e = Vector128.FusedMultiplyAdd(e, err, e);
                e.StoreUnsafe(ref ys, i);
                var (lo, hi) = Vector128.Widen(e);
                a0 += lo;
                a1 += hi;
            }
            sum = Vector128.Sum(a0 + a1);
        }
        for (; i < (nuint)n; i++)
        {
            // One lane of the vector exp, so a row's tail agrees with its body.
            float v = Unsafe.Add(ref xs, i), d = v - max, vr = d + max;
            float err = (v - vr) + (-max - (d - vr));
            float e = VectorMath.Exp<Vector128<float>, Lanes128>(Vector128.CreateScalarUnsafe(d)).ToScalar();
            if (!float.IsNaN(err)) e = MathF.FusedMultiplyAdd(e, err, e);
            Unsafe.Add(ref ys, i) = e;
            sum += e;
        }
        return sum;
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
}
