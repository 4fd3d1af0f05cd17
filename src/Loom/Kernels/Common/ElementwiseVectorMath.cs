using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// Vector forms of the float32 transcendental activations, written once over <see cref="IFloatLanes{TV}"/>.
/// Each keeps about one ulp of relative accuracy everywhere it matters: no formula subtracts nearly equal
/// numbers (tanh near 0 uses its series, 1 + erf(x) for negative x is computed as erfc(|x|)), and the
/// exponential below is within an ulp.
/// </summary>
internal static class VectorMath
{
    /// <summary>
    /// e^x as 2^n · e^r with n = round(x·log2 e) and |r| &lt;= ln2/2 (r by a two-part ln 2, exact for the n that
    /// occur), e^r by Cephes' expf polynomial (4.2e-9 relative error), and 2^n applied as two exact
    /// power-of-two factors so results from the subnormal range to overflow round once. About 5x faster
    /// than .NET's vector exp, which computes in float64 internally.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV, L>(TV x) where TV : struct where L : IFloatLanes<TV>
    {
        // Beyond these e^x is +inf or rounds to 0; clamping keeps n in range (NaN passes through).
        x = L.MaxNative(L.Create(-104f), L.MinNative(L.Create(89f), x));
        var n = L.Round(L.Mul(x, L.Create(1.44269504088896341f)));
        var r = L.Fma(n, L.Create(-0.693359375f), x);
        r = L.Fma(n, L.Create(2.12194440e-4f), r);
        var p = L.Fma(L.Create(1.9875691500e-4f), r, L.Create(1.3981999507e-3f));
        p = L.Fma(p, r, L.Create(8.3334519073e-3f));
        p = L.Fma(p, r, L.Create(4.1665795894e-2f));
        p = L.Fma(p, r, L.Create(1.6666665459e-1f));
        p = L.Fma(p, r, L.Create(5.0000001201e-1f));
        p = L.Add(L.Fma(p, L.Mul(r, r), r), L.Create(1f));
        var half = L.Round(L.Mul(n, L.Create(0.5f))); // n = half + (n - half), both within the normal exponents
        return L.Mul(L.Mul(p, L.Pow2(half)), L.Pow2(L.Sub(n, half)));
    }

    /// <summary>1/(1+e^-x) as e/(1+e) or 1/(1+e) with e = e^-|x|, so neither side overflows or cancels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TV, L>(TV x) where TV : struct where L : IFloatLanes<TV>
    {
        var one = L.Create(1f);
        var e = Exp<TV, L>(L.Sub(L.Create(0f), L.Abs(x)));
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
        var big = L.Sub(one, L.Div(L.Create(2f), L.Add(Exp<TV, L>(L.Add(a, a)), one)));
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
        t = L.MinNative(L.Create(ErfClamp), t);
        var q = L.Fma(L.Create(1.72948930e-5f), t, L.Create(-3.83208680e-4f));
        q = L.Fma(q, t, L.Create(3.88393435e-3f));
        q = L.Fma(q, t, L.Create(-2.42545605e-2f));
        q = L.Fma(q, t, L.Create(1.06777847e-1f));
        q = L.Fma(q, t, L.Create(6.34846687e-1f));
        q = L.Fma(q, t, L.Create(1.28717512e-1f));
        q = L.Fma(q, t, t);
        return Exp<TV, L>(L.Sub(L.Create(0f), q));
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

    /// <summary>
    /// Mish, x·tanh(softplus(x)) = x·n/(n + 2) with n = e^x(e^x + 2): one exponential, no cancellation for
    /// any x; above 20 the factor rounds to 1 (and n would overflow past 44).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Mish<TV, L>(TV x) where TV : struct where L : IFloatLanes<TV>
    {
        var e = Exp<TV, L>(x);
        var n = L.Mul(e, L.Add(e, L.Create(2f)));
        return L.Select(L.GreaterThan(x, L.Create(20f)), x, L.Mul(x, L.Div(n, L.Add(n, L.Create(2f)))));
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

    public readonly struct Mish : IVectorUnaryOp<float>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => VectorMath.Mish<Vector128<float>, Lanes128>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => VectorMath.Mish<Vector256<float>, Lanes256>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => VectorMath.Mish<Vector512<float>, Lanes512>(x);
    }

    public readonly struct Exp : IVectorUnaryOp<float>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => VectorMath.Exp<Vector128<float>, Lanes128>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => VectorMath.Exp<Vector256<float>, Lanes256>(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => VectorMath.Exp<Vector512<float>, Lanes512>(x);
    }

    /// <summary>.NET's vector log (within 1.5 ulps).</summary>
    public readonly struct Log : IVectorUnaryOp<float>
    {
        public float Invoke(float x) => Invoke(Vector128.CreateScalarUnsafe(x)).ToScalar();
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Invoke(Vector128<float> x) => Vector128.Log(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Invoke(Vector256<float> x) => Vector256.Log(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Invoke(Vector512<float> x) => Vector512.Log(x);
    }
}
