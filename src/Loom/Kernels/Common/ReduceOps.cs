using System.Numerics;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Common;

/// <summary>The folds of <see cref="ReduceAccumulate"/>: by accumulator type, then by what they compute.</summary>
internal static class ReduceOps
{
    // ---- ops accumulating in double (floating inputs, and the log/sqrt reductions of integers) ----

    public readonly struct Sum<T> : IReduceOp<T, double>
    {
        public double Identity => 0;
        public double Load(T x, int o) => ToDouble(x);
        public double Combine(double a, double b) => a + b;
    }

    public readonly struct SumSquare<T> : IReduceOp<T, double>
    {
        public double Identity => 0;
        public double Load(T x, int o) { double d = ToDouble(x); return d * d; }
        public double Combine(double a, double b) => a + b;
    }

    public readonly struct AbsSum<T> : IReduceOp<T, double>
    {
        public double Identity => 0;
        public double Load(T x, int o) => Math.Abs(ToDouble(x));
        public double Combine(double a, double b) => a + b;
    }

    public readonly struct Prod<T> : IReduceOp<T, double>
    {
        public double Identity => 1;
        public double Load(T x, int o) => ToDouble(x);
        public double Combine(double a, double b) => a * b;
    }

    /// <summary>Max; Math.Max propagates NaN as NumPy's maximum does.</summary>
    public readonly struct Max<T> : IReduceOp<T, double>
    {
        public double Identity => double.NegativeInfinity;
        public double Load(T x, int o) => ToDouble(x);
        public double Combine(double a, double b) => Math.Max(a, b);
    }

    public readonly struct Min<T> : IReduceOp<T, double>
    {
        public double Identity => double.PositiveInfinity;
        public double Load(T x, int o) => ToDouble(x);
        public double Combine(double a, double b) => Math.Min(a, b);
    }

    /// <summary>Max over the finite elements only: the shift of a stable log-sum-exp (infinities would give inf - inf).</summary>
    public readonly struct FiniteMax<T> : IReduceOp<T, double>
    {
        public double Identity => double.NegativeInfinity;
        public double Load(T x, int o) { double d = ToDouble(x); return double.IsInfinity(d) ? double.NegativeInfinity : d; }
        public double Combine(double a, double b) => Math.Max(a, b);
    }

    public readonly struct ExpShiftedSum<T>(double[] shift) : IReduceOp<T, double>
    {
        public double Identity => 0;
        public double Load(T x, int o) => Math.Exp(ToDouble(x) - shift[o]);
        public double Combine(double a, double b) => a + b;
    }

    /// <summary>Integer LogSumExp as ONNX Runtime computes it: each exponential truncated to an integer.</summary>
    public readonly struct TruncatedExpShiftedSum<T>(double[] shift) : IReduceOp<T, double>
    {
        public double Identity => 0;
        public double Load(T x, int o) => Math.Truncate(Math.Exp(ToDouble(x) - shift[o]));
        public double Combine(double a, double b) => a + b;
    }

    public readonly struct SquaredDeviation<T>(double[] mean) : IReduceOp<T, double>
    {
        public double Identity => 0;
        public double Load(T x, int o) { double d = ToDouble(x) - mean[o]; return d * d; }
        public double Combine(double a, double b) => a + b;
    }

    // ---- ops accumulating in the integer type itself: wrap-around exactly as NumPy with dtype=x.dtype ----

    public readonly struct IntSum<T> : IReduceOp<T, T> where T : IBinaryInteger<T>
    {
        public T Identity => T.Zero;
        public T Load(T x, int o) => x;
        public T Combine(T a, T b) => a + b;
    }

    public readonly struct IntSumSquare<T> : IReduceOp<T, T> where T : IBinaryInteger<T>
    {
        public T Identity => T.Zero;
        public T Load(T x, int o) => x * x;
        public T Combine(T a, T b) => a + b;
    }

    public readonly struct IntAbsSum<T> : IReduceOp<T, T> where T : IBinaryInteger<T>
    {
        public T Identity => T.Zero;
        public T Load(T x, int o) => T.IsNegative(x) ? T.Zero - x : x; // T.Abs would throw on MinValue
        public T Combine(T a, T b) => a + b;
    }

    public readonly struct IntProd<T> : IReduceOp<T, T> where T : IBinaryInteger<T>
    {
        public T Identity => T.One;
        public T Load(T x, int o) => x;
        public T Combine(T a, T b) => a * b;
    }

    public readonly struct IntMax<T> : IReduceOp<T, T> where T : IBinaryInteger<T>, IMinMaxValue<T>
    {
        public T Identity => T.MinValue;
        public T Load(T x, int o) => x;
        public T Combine(T a, T b) => T.Max(a, b);
    }

    public readonly struct IntMin<T> : IReduceOp<T, T> where T : IBinaryInteger<T>, IMinMaxValue<T>
    {
        public T Identity => T.MaxValue;
        public T Load(T x, int o) => x;
        public T Combine(T a, T b) => T.Min(a, b);
    }

    // ---- bool (ReduceMax/ReduceMin since opset 20, with False < True) ----

    public readonly struct Any : IReduceOp<bool, bool>
    {
        public bool Identity => false;
        public bool Load(bool x, int o) => x;
        public bool Combine(bool a, bool b) => a | b;
    }

    public readonly struct All : IReduceOp<bool, bool>
    {
        public bool Identity => true;
        public bool Load(bool x, int o) => x;
        public bool Combine(bool a, bool b) => a & b;
    }
}
