using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// A unary op with a scalar form and a form for each vector width, so one generic loop
/// (<see cref="ElementwiseVectorLoops"/>) runs it at the widest width the CPU accelerates, as
/// <c>TensorPrimitives</c>' operators do. Ops are structs whose methods are instance methods only so an
/// op can carry its attributes (alpha, clip bounds); the JIT specialises the loop per op and inlines it.
/// The scalar form must give what the op's reference kernel gives; exactly rounded ops (add, max, ...)
/// give it bit for bit.
/// </summary>
internal interface IVectorUnaryOp<T> : IUnaryFunc<T, T> where T : unmanaged
{
    Vector128<T> Invoke(Vector128<T> x);
    Vector256<T> Invoke(Vector256<T> x);
    Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>A binary op with scalar and vector forms (see <see cref="IVectorUnaryOp{T}"/>).</summary>
internal interface IVectorBinaryOp<T> : IBinaryFunc<T, T, T> where T : unmanaged
{
    Vector128<T> Invoke(Vector128<T> x, Vector128<T> y);
    Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);
    Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}

/// <summary>
/// The arithmetic ops of real models, for float32 and float64. Max and Min use .NET's IEEE 754:2019
/// maximum/minimum (NaN propagates, -0 &lt; +0) in both forms, as the reference kernels' <c>T.Max</c> does.
/// </summary>
internal static class VectorOps
{
    // a·b + c rounded once, for float32 or float64 lanes (the typeof tests fold away when the JIT specialises T).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Fma<T>(Vector128<T> a, Vector128<T> b, Vector128<T> c) => typeof(T) == typeof(float)
        ? Vector128.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
        : Vector128.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) => typeof(T) == typeof(float)
        ? Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
        : Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c) => typeof(T) == typeof(float)
        ? Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
        : Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();

    public readonly struct Add<T> : IVectorBinaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x, T y) => x + y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x + y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x + y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x + y;
    }

    public readonly struct Sub<T> : IVectorBinaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x, T y) => x - y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x - y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x - y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x - y;
    }

    public readonly struct Mul<T> : IVectorBinaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x, T y) => x * y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x * y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x * y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x * y;
    }

    /// <summary>Only for float types: vector integer division has no divide-by-zero check.</summary>
    public readonly struct Div<T> : IVectorBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x, T y) => x / y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x / y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x / y;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x / y;
    }

    public readonly struct Max<T> : IVectorBinaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x, T y) => T.Max(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.Max(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.Max(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Max(x, y);
    }

    public readonly struct Min<T> : IVectorBinaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x, T y) => T.Min(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.Min(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.Min(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Min(x, y);
    }

    /// <summary>PRelu: x where x &gt;= 0 (and NaN), slope·x elsewhere.</summary>
    public readonly struct PRelu<T> : IVectorBinaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x, T slope) => x < T.Zero ? x * slope : x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x, Vector128<T> s) => Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<T>.Zero), x * s, x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x, Vector256<T> s) => Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), x * s, x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x, Vector512<T> s) => Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), x * s, x);
    }

    /// <summary>max(x, 0) keeping NaN and -0 as the reference's <c>x &lt; 0 ? 0 : x</c> does.</summary>
    public readonly struct Relu<T> : IVectorUnaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x) => x < T.Zero ? T.Zero : x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => Vector128.AndNot(x, Vector128.LessThan(x, Vector128<T>.Zero));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => Vector256.AndNot(x, Vector256.LessThan(x, Vector256<T>.Zero));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => Vector512.AndNot(x, Vector512.LessThan(x, Vector512<T>.Zero));
    }

    public readonly struct LeakyRelu<T>(T alpha) : IVectorUnaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x) => x < T.Zero ? alpha * x : x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<T>.Zero), Vector128.Create(alpha) * x, x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), Vector256.Create(alpha) * x, x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), Vector512.Create(alpha) * x, x);
    }

    /// <summary>min(max(x, lo), hi); an absent bound is an infinity, which leaves every value (NaN and -0 too) as it is.</summary>
    public readonly struct Clip<T>(T lo, T hi) : IVectorUnaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x) => T.Min(T.Max(x, lo), hi);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => Vector128.Min(Vector128.Max(x, Vector128.Create(lo)), Vector128.Create(hi));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => Vector256.Min(Vector256.Max(x, Vector256.Create(lo)), Vector256.Create(hi));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => Vector512.Min(Vector512.Max(x, Vector512.Create(lo)), Vector512.Create(hi));
    }

    /// <summary>max(0, min(1, alpha·x + beta)), multiplied and added separately (no FMA) to round as the reference does.</summary>
    public readonly struct HardSigmoid<T>(T alpha, T beta) : IVectorUnaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x) => T.Max(T.Zero, T.Min(T.One, alpha * x + beta));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => Vector128.Max(Vector128<T>.Zero, Vector128.Min(Vector128<T>.One, Vector128.Create(alpha) * x + Vector128.Create(beta)));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => Vector256.Max(Vector256<T>.Zero, Vector256.Min(Vector256<T>.One, Vector256.Create(alpha) * x + Vector256.Create(beta)));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => Vector512.Max(Vector512<T>.Zero, Vector512.Min(Vector512<T>.One, Vector512.Create(alpha) * x + Vector512.Create(beta)));
    }

    /// <summary>x · max(0, min(1, x/6 + 1/2)); a true division by 6, as the reference rounds.</summary>
    public readonly struct HardSwish<T> : IVectorUnaryOp<T> where T : unmanaged, INumber<T>
    {
        private static T Six => T.CreateTruncating(6);
        private static T Half => T.One / (T.One + T.One);
        public T Invoke(T x) => x * T.Max(T.Zero, T.Min(T.One, x / Six + Half));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => x * Vector128.Max(Vector128<T>.Zero, Vector128.Min(Vector128<T>.One, x / Vector128.Create(Six) + Vector128.Create(Half)));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => x * Vector256.Max(Vector256<T>.Zero, Vector256.Min(Vector256<T>.One, x / Vector256.Create(Six) + Vector256.Create(Half)));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => x * Vector512.Max(Vector512<T>.Zero, Vector512.Min(Vector512<T>.One, x / Vector512.Create(Six) + Vector512.Create(Half)));
    }

    public readonly struct Neg<T> : IVectorUnaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x) => -x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => -x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => -x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => -x;
    }

    /// <summary>|x| for floats: the sign bit cleared, as the reference's <c>IsNegative(x) ? -x : x</c> gives (NaN included).</summary>
    public readonly struct Abs<T> : IVectorUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => T.IsNegative(x) ? -x : x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => Vector128.Abs(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => Vector256.Abs(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => Vector512.Abs(x);
    }

    public readonly struct Sqrt<T> : IVectorUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => T.Sqrt(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => Vector128.Sqrt(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => Vector256.Sqrt(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => Vector512.Sqrt(x);
    }

    public readonly struct Reciprocal<T> : IVectorUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => T.One / x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => Vector128<T>.One / x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => Vector256<T>.One / x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => Vector512<T>.One / x;
    }

    /// <summary>Pow(x, 2): x·x is the correctly rounded square, as the reference's float64 pow rounded to T.</summary>
    public readonly struct Square<T> : IVectorUnaryOp<T> where T : unmanaged, INumber<T>
    {
        public T Invoke(T x) => x * x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => x * x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => x * x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => x * x;
    }

    /// <summary>Pow(x, 0.5): the square root, but +0 for -0 and +∞ for -∞ as pow gives (adding +0 turns -0 into +0).</summary>
    public readonly struct PowHalf<T> : IVectorUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => T.IsNegativeInfinity(x) ? T.PositiveInfinity : T.Sqrt(x) + T.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => Vector128.ConditionalSelect(Vector128.Equals(x, Vector128.Create(T.NegativeInfinity)), Vector128.Create(T.PositiveInfinity), Vector128.Sqrt(x) + Vector128<T>.Zero);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.Equals(x, Vector256.Create(T.NegativeInfinity)), Vector256.Create(T.PositiveInfinity), Vector256.Sqrt(x) + Vector256<T>.Zero);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.Equals(x, Vector512.Create(T.NegativeInfinity)), Vector512.Create(T.PositiveInfinity), Vector512.Sqrt(x) + Vector512<T>.Zero);
    }

    /// <summary>y = x·scale + shift with one rounding (BatchNormalization's inference form, one channel at a time).</summary>
    public readonly struct ScaleShift<T>(T scale, T shift) : IVectorUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => T.FusedMultiplyAdd(x, scale, shift);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => Fma(x, Vector128.Create(scale), Vector128.Create(shift));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => Fma(x, Vector256.Create(scale), Vector256.Create(shift));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => Fma(x, Vector512.Create(scale), Vector512.Create(shift));
    }

    /// <summary>A binary op with its right operand fixed: a row broadcasting one element of the second input.</summary>
    public readonly struct BindRight<TOp, T>(TOp op, T y) : IVectorUnaryOp<T> where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        public T Invoke(T x) => op.Invoke(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> x) => op.Invoke(x, Vector128.Create(y));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> x) => op.Invoke(x, Vector256.Create(y));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> x) => op.Invoke(x, Vector512.Create(y));
    }

    /// <summary>A binary op with its left operand fixed.</summary>
    public readonly struct BindLeft<TOp, T>(TOp op, T x) : IVectorUnaryOp<T> where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        public T Invoke(T y) => op.Invoke(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<T> Invoke(Vector128<T> y) => op.Invoke(Vector128.Create(x), y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<T> Invoke(Vector256<T> y) => op.Invoke(Vector256.Create(x), y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<T> Invoke(Vector512<T> y) => op.Invoke(Vector512.Create(x), y);
    }
}
