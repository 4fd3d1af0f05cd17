using System.Runtime.CompilerServices;

namespace Loom.Kernels.Common;

/// <summary>
/// Element conversions to and from <c>double</c> for every numeric storage type (bfloat16 included),
/// written so the JIT folds the type tests away for each instantiation. Reductions and normalizations
/// compute in double: it is exact for every float32 input and keeps sums closest to NumPy's results.
/// </summary>
internal static class ReduceNumerics
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble<T>(T x)
    {
        if (typeof(T) == typeof(float)) return Unsafe.As<T, float>(ref x);
        if (typeof(T) == typeof(double)) return Unsafe.As<T, double>(ref x);
        if (typeof(T) == typeof(Half)) return (double)Unsafe.As<T, Half>(ref x);
        if (typeof(T) == typeof(BFloat16)) return (float)Unsafe.As<T, BFloat16>(ref x);
        if (typeof(T) == typeof(sbyte)) return Unsafe.As<T, sbyte>(ref x);
        if (typeof(T) == typeof(byte)) return Unsafe.As<T, byte>(ref x);
        if (typeof(T) == typeof(short)) return Unsafe.As<T, short>(ref x);
        if (typeof(T) == typeof(ushort)) return Unsafe.As<T, ushort>(ref x);
        if (typeof(T) == typeof(int)) return Unsafe.As<T, int>(ref x);
        if (typeof(T) == typeof(uint)) return Unsafe.As<T, uint>(ref x);
        if (typeof(T) == typeof(long)) return Unsafe.As<T, long>(ref x);
        if (typeof(T) == typeof(ulong)) return Unsafe.As<T, ulong>(ref x);
        if (typeof(T) == typeof(bool)) return Unsafe.As<T, bool>(ref x) ? 1 : 0;
        throw new NotSupportedException($"no numeric conversion for {typeof(T).Name}");
    }

    /// <summary>Rounds to nearest for floating types; truncates toward zero (saturating, NaN → 0) for integers, as NumPy's astype does on common platforms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromDouble<T>(double v)
    {
        if (typeof(T) == typeof(float)) { float r = (float)v; return Unsafe.As<float, T>(ref r); }
        if (typeof(T) == typeof(double)) return Unsafe.As<double, T>(ref v);
        if (typeof(T) == typeof(Half)) { Half r = (Half)v; return Unsafe.As<Half, T>(ref r); }
        if (typeof(T) == typeof(BFloat16)) { var r = (BFloat16)(float)v; return Unsafe.As<BFloat16, T>(ref r); }
        if (typeof(T) == typeof(bool)) { bool r = v != 0; return Unsafe.As<bool, T>(ref r); }
        if (typeof(T) == typeof(sbyte)) { sbyte r = sbyte.CreateSaturating(v); return Unsafe.As<sbyte, T>(ref r); }
        if (typeof(T) == typeof(byte)) { byte r = byte.CreateSaturating(v); return Unsafe.As<byte, T>(ref r); }
        if (typeof(T) == typeof(short)) { short r = short.CreateSaturating(v); return Unsafe.As<short, T>(ref r); }
        if (typeof(T) == typeof(ushort)) { ushort r = ushort.CreateSaturating(v); return Unsafe.As<ushort, T>(ref r); }
        if (typeof(T) == typeof(int)) { int r = int.CreateSaturating(v); return Unsafe.As<int, T>(ref r); }
        if (typeof(T) == typeof(uint)) { uint r = uint.CreateSaturating(v); return Unsafe.As<uint, T>(ref r); }
        if (typeof(T) == typeof(long)) { long r = long.CreateSaturating(v); return Unsafe.As<long, T>(ref r); }
        if (typeof(T) == typeof(ulong)) { ulong r = ulong.CreateSaturating(v); return Unsafe.As<ulong, T>(ref r); }
        throw new NotSupportedException($"no numeric conversion for {typeof(T).Name}");
    }

    /// <summary>
    /// Whether <paramref name="candidate"/> should replace <paramref name="best"/> in an arg-max (or,
    /// with <paramref name="max"/> false, arg-min) scan: strictly better, or equal when
    /// <paramref name="onTie"/>. NaN beats any number and is never replaced, as in NumPy's argmax.
    /// 64-bit integers compare exactly rather than through double.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Beats<T>(T candidate, T best, bool max, bool onTie)
    {
        int c;
        if (typeof(T) == typeof(long)) c = Unsafe.As<T, long>(ref candidate).CompareTo(Unsafe.As<T, long>(ref best));
        else if (typeof(T) == typeof(ulong)) c = Unsafe.As<T, ulong>(ref candidate).CompareTo(Unsafe.As<T, ulong>(ref best));
        else
        {
            double a = ToDouble(candidate), b = ToDouble(best);
            if (double.IsNaN(a) || double.IsNaN(b)) return !double.IsNaN(b);
            c = a.CompareTo(b);
        }
        return (max ? c > 0 : c < 0) || (onTie && c == 0);
    }

    /// <summary>A numeric tensor's elements as doubles (for small parameter tensors: scales, biases, weights).</summary>
    public static double[] ToDoubles(Tensor t)
    {
        var action = new ToDoublesAction(t);
        if (!ReduceTypeSwitch.Numeric(t.DataType, ref action)) throw new UnsupportedException($"{t.DataType.Name()} is not a numeric type");
        return action.Result;
    }

    /// <summary>Writes <paramref name="values"/> into a numeric tensor of the same length, rounding to its type.</summary>
    public static void FromDoubles(double[] values, Tensor destination)
    {
        var action = new FromDoublesAction(values, destination);
        if (!ReduceTypeSwitch.Numeric(destination.DataType, ref action)) throw new UnsupportedException($"{destination.DataType.Name()} is not a numeric type");
    }

    private struct ToDoublesAction(Tensor t) : IReduceTypedAction
    {
        public double[] Result = [];

        public void Invoke<T>() where T : unmanaged
        {
            var src = t.AsSpan<T>();
            Result = new double[src.Length];
            for (int i = 0; i < src.Length; i++) Result[i] = ToDouble(src[i]);
        }
    }

    private readonly struct FromDoublesAction(double[] values, Tensor t) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var dst = t.AsSpan<T>();
            for (int i = 0; i < dst.Length; i++) dst[i] = FromDouble<T>(values[i]);
        }
    }
}
