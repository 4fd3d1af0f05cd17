using Loom.Streams.Execution;

namespace Loom.Streams.CodeGen;

/// <summary>Math and complex helpers called by compiled code, with the MIT C back end's semantics.</summary>
public static class Intrinsics
{
    // C's round(): halves away from zero.
    public static double Round(double x) => Math.Round(x, MidpointRounding.AwayFromZero);
    public static double Rint(double x) => Math.Round(x, MidpointRounding.ToEven);
    public static double Cbrt(double x) => Math.Cbrt(x);
    public static double Expm1(double x) => Math.Exp(x) - 1;
    public static double Log1p(double x) => Math.Log(1 + x);
    public static double Hypot(double x, double y) => Math.Sqrt(x * x + y * y);
    public static double Fmod(double x, double y) => x % y;
    /// <summary>
    /// <c>c ? a : b</c> without a branch: a guarded update on random data (a comparison count) mispredicts half
    /// the time, and the JIT does not if-convert inside loops.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int Select(bool c, int a, int b) => b ^ ((a ^ b) & -System.Runtime.CompilerServices.Unsafe.As<bool, byte>(ref c));

    /// <summary>1 if c else 0, without a branch (a count's step of 1: <c>v += Bit(c)</c>, no mask needed).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int Bit(bool c) => System.Runtime.CompilerServices.Unsafe.As<bool, byte>(ref c);

    // Java's Math.abs(int.MinValue) is int.MinValue; .NET's Math.Abs would throw.
    public static int AbsInt(int x) => x < 0 ? -x : x;

    public static SValue Complex(double re, double im)
    {
        var c = new SValue(2);
        c.L[0] = (float)re;
        c.L[1] = (float)im;
        return c;
    }

    public static SValue CAdd(SValue a, SValue b) => Complex((float)a.L[0] + (float)b.L[0], (float)a.L[1] + (float)b.L[1]);
    public static SValue CSub(SValue a, SValue b) => Complex((float)a.L[0] - (float)b.L[0], (float)a.L[1] - (float)b.L[1]);

    public static SValue CMul(SValue a, SValue b)
    {
        float ar = (float)a.L[0], ai = (float)a.L[1], br = (float)b.L[0], bi = (float)b.L[1];
        return Complex(ar * br - ai * bi, ar * bi + ai * br);
    }

    public static SValue CDiv(SValue a, SValue b)
    {
        float ar = (float)a.L[0], ai = (float)a.L[1], br = (float)b.L[0], bi = (float)b.L[1];
        float d = br * br + bi * bi;
        return Complex((ar * br + ai * bi) / d, (ai * br - ar * bi) / d);
    }

    public static SValue CNeg(SValue a) => Complex(-(float)a.L[0], -(float)a.L[1]);
    public static float CAbs(SValue a) => (float)Math.Sqrt(a.L[0] * a.L[0] + a.L[1] * a.L[1]);
    public static bool CEq(SValue a, SValue b) => a.L[0] == b.L[0] && a.L[1] == b.L[1];
}
