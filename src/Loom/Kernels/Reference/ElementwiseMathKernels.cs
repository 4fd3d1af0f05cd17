using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Unary math: float functions, Abs/Neg/Sign, IsNaN/IsInf, Not and BitwiseNot.</summary>
[KernelRegistrations]
internal static class ElementwiseMathKernels
{
    public static void Register(KernelRegistry r)
    {
        Float<ExpOp>(r, "Exp"); Float<LogOp>(r, "Log"); Float<SqrtOp>(r, "Sqrt"); Float<ReciprocalOp>(r, "Reciprocal");
        Float<FloorOp>(r, "Floor"); Float<CeilOp>(r, "Ceil"); Float<RoundOp>(r, "Round");
        Float<SinOp>(r, "Sin"); Float<CosOp>(r, "Cos"); Float<TanOp>(r, "Tan");
        Float<AsinOp>(r, "Asin"); Float<AcosOp>(r, "Acos"); Float<AtanOp>(r, "Atan");
        Float<SinhOp>(r, "Sinh"); Float<CoshOp>(r, "Cosh"); Float<AsinhOp>(r, "Asinh"); Float<AcoshOp>(r, "Acosh"); Float<AtanhOp>(r, "Atanh");
        Float<ErfOp>(r, "Erf");
        r.Add("Abs", _ => new NumberUnaryKernel<AbsOp>());
        r.Add("Neg", _ => new NumberUnaryKernel<NegOp>());
        r.Add("Sign", _ => new NumberUnaryKernel<SignOp>());
        r.Add("IsNaN", _ => new FloatClassKernel(nan: true, positiveInf: false, negativeInf: false));
        r.Add("IsInf", info => new FloatClassKernel(nan: false, positiveInf: info.GetInt("detect_positive", 1) != 0, negativeInf: info.GetInt("detect_negative", 1) != 0));
        r.Add("Not", _ => new NotKernel());
        r.Add("BitwiseNot", _ => new BitwiseNotKernel());
    }

    private static void Float<TOp>(KernelRegistry r, string op) where TOp : IFloatOp => r.Add(op, _ => new FloatUnaryKernel<TOp>());

    private struct ExpOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Exp(x); }
    private struct LogOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Log(x); }
    private struct SqrtOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Sqrt(x); }
    private struct ReciprocalOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.One / x; }
    private struct FloorOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Floor(x); }
    private struct CeilOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Ceiling(x); }
    /// <summary>Halves round to even, as NumPy and ONNX specify.</summary>
    private struct RoundOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Round(x, MidpointRounding.ToEven); }
    private struct SinOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Sin(x); }
    private struct CosOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Cos(x); }
    private struct TanOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Tan(x); }
    private struct AsinOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Asin(x); }
    private struct AcosOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Acos(x); }
    private struct AtanOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Atan(x); }
    private struct SinhOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Sinh(x); }
    private struct CoshOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Cosh(x); }
    private struct AsinhOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Asinh(x); }
    private struct AcoshOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Acosh(x); }
    private struct AtanhOp : IFloatOp { public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Atanh(x); }
    private struct ErfOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> =>
            T.CreateTruncating(ElementwiseMath.Erf(double.CreateTruncating(x)));
    }

    /// <summary>|x|; the most negative integer stays itself (two's complement wrap, as NumPy).</summary>
    private struct AbsOp : INumberOp { public static T Invoke<T>(T x) where T : INumber<T> => T.IsNegative(x) ? -x : x; }
    private struct NegOp : INumberOp { public static T Invoke<T>(T x) where T : INumber<T> => -x; }
    /// <summary>-1, 0 or 1; NaN stays NaN (.NET's Sign would throw).</summary>
    private struct SignOp : INumberOp { public static T Invoke<T>(T x) where T : INumber<T> => x > T.Zero ? T.One : x < T.Zero ? -T.One : x; }

    /// <summary>IsNaN / IsInf: a float class test giving bool.</summary>
    private sealed class FloatClassKernel(bool nan, bool positiveInf, bool negativeInf) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var y = ctx.AllocateOutput(0, DataType.Bool, x.Shape);
            if (ElementwiseTypes.IsHalfLike(x.DataType)) x = ElementwiseTypes.Widen(x);
            var v = new Visitor(x, y, this);
            if (!ElementwiseTypes.VisitFloat(x.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, x.DataType);
        }

        private bool Test<T>(T v) where T : IFloatingPointIeee754<T> =>
            (nan && T.IsNaN(v)) || (positiveInf && T.IsPositiveInfinity(v)) || (negativeInf && T.IsNegativeInfinity(v));

        private readonly struct Visitor(Tensor x, Tensor y, FloatClassKernel k) : IFloatVisitor
        {
            public void Visit<T>() where T : unmanaged, IFloatingPointIeee754<T>
            {
                var s = x.AsReadOnlySpan<T>();
                var d = y.AsSpan<bool>();
                for (int i = 0; i < s.Length; i++) d[i] = k.Test(s[i]);
            }
        }
    }

    private sealed class NotKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.DataType != DataType.Bool) throw ElementwiseKernel.Unsupported(ctx, x.DataType);
            var s = x.AsReadOnlySpan<bool>();
            var y = ctx.AllocateOutput(0, DataType.Bool, x.Shape).AsSpan<bool>();
            for (int i = 0; i < s.Length; i++) y[i] = !s[i];
        }
    }

    private sealed class BitwiseNotKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            var v = new Visitor(x, y);
            if (!ElementwiseTypes.VisitInteger(x.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, x.DataType);
        }

        private readonly struct Visitor(Tensor x, Tensor y) : IIntegerVisitor
        {
            public void Visit<T>() where T : unmanaged, IBinaryInteger<T>
            {
                var s = x.AsReadOnlySpan<T>();
                var d = y.AsSpan<T>();
                for (int i = 0; i < s.Length; i++) d[i] = ~s[i];
            }
        }
    }
}
