using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>
/// Pow with broadcasting; the exponent may have another type than the base, the result has the base's.
/// Integer to an integer power is exact (wrapping like repeated multiplication); every other mix is
/// computed in float64 and converted to the base type (truncating toward zero for integers, as C's cast).
/// </summary>
[KernelRegistrations]
internal static class ElementwisePowKernels
{
    public static void Register(KernelRegistry r) => r.Add("Pow", info => new PowKernel(LegacyBroadcast.From(info)));

    private sealed class PowKernel(LegacyBroadcast legacy) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            Tensor x = ctx.Input(0), e = legacy.Align(ctx, ctx.Input(0), ctx.Input(1));
            var output = ctx.AllocateOutput(0, x.DataType, ElementwiseLoops.BroadcastShape(ctx, x, e));
            bool half = ElementwiseTypes.IsHalfLike(x.DataType);
            var target = half ? Tensor.Zeros(DataType.Float, output.Shape) : output;
            if (half) x = ElementwiseTypes.Widen(x);
            var v = new Visitor(x, Exponent(ctx, e, integer: x.DataType.IsInteger()), target);
            if (!ElementwiseTypes.VisitNumber(x.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, x.DataType);
            if (half) ElementwiseTypes.Narrow(target.AsReadOnlySpan<float>(), output);
        }

        /// <summary>The exponent as int64 (integer base and exponent) or float64 (otherwise).</summary>
        private static Tensor Exponent(KernelContext ctx, Tensor e, bool integer)
        {
            if (ElementwiseTypes.IsHalfLike(e.DataType)) e = ElementwiseTypes.Widen(e);
            var v = new ToWide(e, integer && e.DataType.IsInteger());
            if (!ElementwiseTypes.VisitNumber(e.DataType, ref v)) throw ctx.Fail($"Pow does not support a {e.DataType.Name()} exponent");
            return v.Result!;
        }

        private struct ToWide(Tensor e, bool toLong) : INumberVisitor
        {
            public Tensor? Result;
            public void Visit<T>() where T : unmanaged, INumber<T>
            {
                var s = e.AsReadOnlySpan<T>();
                if (toLong)
                {
                    var r = new long[s.Length];
                    for (int i = 0; i < r.Length; i++) r[i] = long.CreateTruncating(s[i]);
                    Result = Tensor.FromArray(r, e.Shape);
                }
                else
                {
                    var r = new double[s.Length];
                    for (int i = 0; i < r.Length; i++) r[i] = double.CreateTruncating(s[i]);
                    Result = Tensor.FromArray(r, e.Shape);
                }
            }
        }

        private readonly struct Visitor(Tensor x, Tensor e, Tensor output) : INumberVisitor
        {
            public void Visit<T>() where T : unmanaged, INumber<T>
            {
                if (e.DataType == DataType.Int64) ElementwiseLoops.Broadcast<IntegerPow<T>, T, long, T>(default, x, e, output);
                else ElementwiseLoops.Broadcast<DoublePow<T>, T, double, T>(default, x, e, output);
            }
        }
    }

    private readonly struct DoublePow<T> : IBinaryFunc<T, double, T> where T : INumber<T>
    {
        public T Invoke(T x, double e) => T.CreateTruncating(Math.Pow(double.CreateTruncating(x), e));
    }

    /// <summary>Exponentiation by squaring; a negative exponent gives the truncated reciprocal (0 unless |x| is 1).</summary>
    private readonly struct IntegerPow<T> : IBinaryFunc<T, long, T> where T : INumber<T>
    {
        public T Invoke(T x, long e)
        {
            if (e < 0)
            {
                if (x == T.One) return T.One;
                if (T.IsNegative(x) && x == -T.One) return (e & 1) == 0 ? T.One : x;
                return T.Zero;
            }
            T result = T.One, b = x;
            while (e > 0)
            {
                if ((e & 1) != 0) result *= b;
                b *= b;
                e >>= 1;
            }
            return result;
        }
    }
}
