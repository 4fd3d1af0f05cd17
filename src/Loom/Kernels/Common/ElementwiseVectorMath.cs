using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// Vector forms of the float32 transcendental activations, written once over <see cref="IFloatLanes{TV}"/>.
/// Each keeps about one ulp of relative accuracy everywhere it matters: no formula subtracts nearly equal
/// numbers (tanh near 0 uses its series, 1 + erf(x) for negative x is computed as erfc(|x|)), and the
/// exponential is .NET's vector exp (computed in float64 internally, within an ulp).
/// </summary>
internal static class VectorMath
{
    /// <summary>1/(1+e^-x) as e/(1+e) or 1/(1+e) with e = e^-|x|, so neither side overflows or cancels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TV, L>(TV x) where TV : struct where L : IFloatLanes<TV>
    {
        var one = L.Create(1f);
        var e = L.Exp(L.Sub(L.Create(0f), L.Abs(x)));
        return L.Div(L.Select(L.GreaterThanOrEqual(x, L.Create(0f)), one, e), L.Add(one, e));
    }

    /// <summary>
    /// tanh: below |x| = 0.625 the odd series x + x³·P(x²) (Cephes' tanhf coefficients), above it
    /// 1 - 2/(e^2|x| + 1), whose result is then at least 0.55 so the subtraction loses nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TV, L>(TV x) where TV : struct where L : IFloatLanes<TV>
    {
        var a = L.Abs(x);
        var z = L.Mul(x, x);
        var p = L.Fma(L.Create(-5.70498872745e-3f), z, L.Create(2.06390887954e-2f));
        p = L.Fma(p, z, L.Create(-5.37397155531e-2f));
        p = L.Fma(p, z, L.Create(1.33314422036e-1f));
        p = L.Fma(p, z, L.Create(-3.33332819422e-1f));
        var small = L.Fma(L.Mul(p, z), x, x);
        var one = L.Create(1f);
        var big = L.Sub(one, L.Div(L.Create(2f), L.Add(L.Exp(L.Add(a, a)), one)));
        return L.Select(L.LessThan(a, L.Create(0.625f)), small, L.CopySign(big, x));
    }

    // erf splits at |x| = 0.921875: below, x + x·R(x²); above, 1 - exp(-Q(|x|)) with |x| clamped to 3.925
    // (where erf rounds to 1 in float32). The polynomials are the ones ONNX Runtime's MLAS uses (from
    // njuffa's faithfully rounded erff); the exponential here is the accurate vector one.
    private const float ErfSplit = 0.921875f, ErfClamp = 3.925f;

    /// <summary>erf(x) - x over x for |x| &lt;= <see cref="ErfSplit"/>, as a polynomial in s = x².</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ErfSmallRatio<TV, L>(TV s) where TV : struct where L : IFloatLanes<TV>
    {
        var r = L.Fma(L.Create(-5.99104969e-4f), s, L.Create(4.99339588e-3f));
        r = L.Fma(r, s, L.Create(-2.67667342e-2f));
        r = L.Fma(r, s, L.Create(1.12818025e-1f));
        r = L.Fma(r, s, L.Create(-3.76124859e-1f));
        return L.Fma(r, s, L.Create(1.28379151e-1f));
    }

    /// <summary>erfc(t) = exp(-Q(t)) for <see cref="ErfSplit"/> &lt; t &lt;= <see cref="ErfClamp"/> (t clamped to the latter).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ErfcLarge<TV, L>(TV t) where TV : struct where L : IFloatLanes<TV>
    {
        t = L.Min(t, L.Create(ErfClamp));
        var q = L.Fma(L.Create(1.72948930e-5f), t, L.Create(-3.83208680e-4f));
        q = L.Fma(q, t, L.Create(3.88393435e-3f));
        q = L.Fma(q, t, L.Create(-2.42545605e-2f));
        q = L.Fma(q, t, L.Create(1.06777847e-1f));
        q = L.Fma(q, t, L.Create(6.34846687e-1f));
        q = L.Fma(q, t, L.Create(1.28717512e-1f));
        q = L.Fma(q, t, t);
        return L.Exp(L.Sub(L.Create(0f), q));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Erf<TV, L>(TV x) where TV : struct where L : IFloatLanes<TV>
    {
        var t = L.Abs(x);
        var small = L.Fma(ErfSmallRatio<TV, L>(L.Mul(x, x)), x, x);
        var large = L.CopySign(L.Sub(L.Create(1f), ErfcLarge<TV, L>(t)), x);
        return L.Select(L.GreaterThan(t, L.Create(ErfSplit)), large, small);
    }

    /// <summary>
    /// x/2 · (1 + erf(x/√2)); for negative x the factor is erfc(|x|/√2), computed directly so the tail
    /// keeps its relative accuracy (it is 0 beyond the clamp, where |Gelu| &lt; 3e-8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Gelu<TV, L>(TV x) where TV : struct where L : IFloatLanes<TV>
    {
        var one = L.Create(1f);
        var z = L.Mul(x, L.Create(0.70710678118654752440f));
        var t = L.Abs(z);
        var erfSmall = L.Fma(ErfSmallRatio<TV, L>(L.Mul(t, t)), t, t); // erf(t), t <= split
        var erfcLarge = ErfcLarge<TV, L>(t);                            // erfc(t), t > split
        var isLarge = L.GreaterThan(t, L.Create(ErfSplit));
        var positive = L.Select(isLarge, L.Sub(L.Create(2f), erfcLarge), L.Add(one, erfSmall));
        var negative = L.Select(isLarge, L.Select(L.GreaterThan(t, L.Create(ErfClamp)), L.Create(0f), erfcLarge), L.Sub(one, erfSmall));
        var factor = L.Select(L.LessThan(x, L.Create(0f)), negative, positive);
        return L.Mul(L.Mul(x, L.Create(0.5f)), factor);
    }

    /// <summary>Gelu's tanh form x/2·(1 + tanh(u)) as x·sigmoid(2u), u = √(2/π)(x + 0.044715x³): no cancellation for negative x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV GeluTanh<TV, L>(TV x) where TV : struct where L : IFloatLanes<TV>
    {
        var x3 = L.Mul(L.Mul(x, x), x);
        var u = L.Mul(L.Create(0.79788456080286535588f), L.Fma(L.Create(0.044715f), x3, x));
        return L.Mul(x, Sigmoid<TV, L>(L.Add(u, u)));
    }
}

/// <summary>The vector transcendental ops as <see cref="IVectorUnaryOp{T}"/>s. The scalar form runs the vector one on one lane, so short tails agree with the rest.</summary>
internal static class VectorMathOps
{
    public readonly struct Sigmoid : IVectorUnaryOp<float>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => VectorMath.Sigmoid<Vector128<float>, Lanes128>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => VectorMath.Sigmoid<Vector256<float>, Lanes256>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => VectorMath.Sigmoid<Vector512<float>, Lanes512>(x);
    }

    public readonly struct Tanh : IVectorUnaryOp<float>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => VectorMath.Tanh<Vector128<float>, Lanes128>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => VectorMath.Tanh<Vector256<float>, Lanes256>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => VectorMath.Tanh<Vector512<float>, Lanes512>(x);
    }

    public readonly struct Erf : IVectorUnaryOp<float>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => VectorMath.Erf<Vector128<float>, Lanes128>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => VectorMath.Erf<Vector256<float>, Lanes256>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => VectorMath.Erf<Vector512<float>, Lanes512>(x);
    }

    public readonly struct Gelu : IVectorUnaryOp<float>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => VectorMath.Gelu<Vector128<float>, Lanes128>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => VectorMath.Gelu<Vector256<float>, Lanes256>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => VectorMath.Gelu<Vector512<float>, Lanes512>(x);
    }

    public readonly struct GeluTanh : IVectorUnaryOp<float>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => VectorMath.GeluTanh<Vector128<float>, Lanes128>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => VectorMath.GeluTanh<Vector256<float>, Lanes256>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => VectorMath.GeluTanh<Vector512<float>, Lanes512>(x);
    }

    public readonly struct Exp : IVectorUnaryOp<float>, IVectorUnaryOp<double>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => Vector128.Exp(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => Vector256.Exp(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => Vector512.Exp(x);
        public double Invoke(double x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<double> Invoke(Vector128<double> x) => Vector128.Exp(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<double> Invoke(Vector256<double> x) => Vector256.Exp(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<double> Invoke(Vector512<double> x) => Vector512.Exp(x);
    }

    public readonly struct Log : IVectorUnaryOp<float>, IVectorUnaryOp<double>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => Vector128.Log(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => Vector256.Log(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => Vector512.Log(x);
        public double Invoke(double x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<double> Invoke(Vector128<double> x) => Vector128.Log(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<double> Invoke(Vector256<double> x) => Vector256.Log(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<double> Invoke(Vector512<double> x) => Vector512.Log(x);
    }
}
