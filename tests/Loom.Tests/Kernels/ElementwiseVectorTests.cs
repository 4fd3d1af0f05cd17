using System.Runtime.Intrinsics;
using Loom.Kernels.Common;
using static Loom.Tests.Kernels.VectorTestData;

namespace Loom.Tests.Kernels;

/// <summary>
/// The SIMD loops and ops against their scalar forms (bit for bit for exactly rounded ops) and against
/// float64 math (within ulps for the transcendental ones), at every length 1..256 so every tail of every
/// vector width runs. <see cref="IsaMatrixTests"/> reruns this class with AVX-512, AVX2 and all hardware
/// intrinsics disabled, so the 256-bit, 128-bit and scalar paths run on this machine too.
/// </summary>
public class ElementwiseVectorTests
{
    private static readonly int[] Lengths = [.. Enumerable.Range(1, 256), 1000, 4099];

    [Fact]
    public void RunsOnTheIsaTheMatrixAskedFor()
    {
        // Set by IsaMatrixTests for its child runs; a knob the runtime ignored must not pass silently.
        switch (Environment.GetEnvironmentVariable("LOOM_EXPECT_ISA"))
        {
            case null: return;
            case "avx2":
                Assert.False(Vector512.IsHardwareAccelerated);
                Assert.True(Vector256.IsHardwareAccelerated);
                break;
            case "sse":
                Assert.False(Vector256.IsHardwareAccelerated);
                Assert.True(Vector128.IsHardwareAccelerated);
                break;
            case "scalar":
                Assert.False(Vector128.IsHardwareAccelerated);
                break;
            case var other: Assert.Fail($"unknown LOOM_EXPECT_ISA '{other}'"); break;
        }
    }

    [Fact]
    public void ExactUnaryOpsMatchTheirScalarFormBitForBit()
    {
        var failures = new List<string>();
        ExactUnary(failures, "Relu", new VectorOps.Relu<float>(), new VectorOps.Relu<double>());
        ExactUnary(failures, "LeakyRelu", new VectorOps.LeakyRelu<float>(0.01f), new VectorOps.LeakyRelu<double>(0.01f));
        ExactUnary(failures, "Clip", new VectorOps.Clip<float>(-1.5f, 6f), new VectorOps.Clip<double>(-1.5, 6));
        ExactUnary(failures, "ClipInverted", new VectorOps.Clip<float>(2f, 1f), new VectorOps.Clip<double>(2, 1));
        ExactUnary(failures, "ClipOpen", new VectorOps.Clip<float>(float.NegativeInfinity, float.PositiveInfinity), new VectorOps.Clip<double>(double.NegativeInfinity, 3));
        ExactUnary(failures, "HardSigmoid", new VectorOps.HardSigmoid<float>(0.2f, 0.5f), new VectorOps.HardSigmoid<double>(0.2f, 0.5f));
        ExactUnary(failures, "HardSwish", new VectorOps.HardSwish<float>(), new VectorOps.HardSwish<double>());
        ExactUnary(failures, "Neg", new VectorOps.Neg<float>(), new VectorOps.Neg<double>());
        ExactUnary(failures, "Abs", new VectorOps.Abs<float>(), new VectorOps.Abs<double>());
        ExactUnary(failures, "Sqrt", new VectorOps.Sqrt<float>(), new VectorOps.Sqrt<double>());
        ExactUnary(failures, "Reciprocal", new VectorOps.Reciprocal<float>(), new VectorOps.Reciprocal<double>());
        ExactUnary(failures, "PowHalf", new VectorOps.PowHalf<float>(), new VectorOps.PowHalf<double>());
        ExactUnary(failures, "Square", new VectorOps.Square<float>(), new VectorOps.Square<double>());
        ExactUnary(failures, "ScaleShift", new VectorOps.ScaleShift<float>(0.37f, -1.25f), new VectorOps.ScaleShift<double>(0.37, -1.25));
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void ExactBinaryOpsMatchTheirScalarFormInEveryRowForm()
    {
        var failures = new List<string>();
        ExactBinary(failures, "Add", new VectorOps.Add<float>(), new VectorOps.Add<double>());
        ExactBinary(failures, "Sub", new VectorOps.Sub<float>(), new VectorOps.Sub<double>());
        ExactBinary(failures, "Mul", new VectorOps.Mul<float>(), new VectorOps.Mul<double>());
        ExactBinary(failures, "Div", new VectorOps.Div<float>(), new VectorOps.Div<double>());
        ExactBinary(failures, "Max", new VectorOps.Max<float>(), new VectorOps.Max<double>());
        ExactBinary(failures, "Min", new VectorOps.Min<float>(), new VectorOps.Min<double>());
        ExactBinary(failures, "PRelu", new VectorOps.PRelu<float>(), new VectorOps.PRelu<double>());
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void ScalarFormsOfExactOpsMatchTheReferenceFormulas()
    {
        // The reference kernels compute these with generic INumber code; spot-check the special values.
        foreach (var x in Floats(4000, 7))
        {
            Assert.True(Same(float.Max(x, 0.25f), new VectorOps.Max<float>().Invoke(x, 0.25f)));
            Assert.True(Same(x < 0 ? 0 : x, new VectorOps.Relu<float>().Invoke(x)));
            Assert.True(Same(float.Min(float.Max(x, -1), 1), new VectorOps.Clip<float>(-1, 1).Invoke(x)));
            Assert.True(Same((float)Math.Pow(x, 2), new VectorOps.Square<float>().Invoke(x)), $"x = {x}");
            Assert.True(Same((float)Math.Pow(x, 0.5), new VectorOps.PowHalf<float>().Invoke(x)), $"x = {x}");
        }
    }

    [Fact]
    public void InPlaceCallsReadEachInputBeforeOverwritingIt()
    {
        foreach (int n in Lengths)
        {
            var x = Floats(n, n);
            var buffer = (float[])x.Clone();
            ElementwiseVectorLoops.Map(new VectorOps.ScaleShift<float>(3, 1), buffer, buffer);
            var sum = (float[])x.Clone();
            ElementwiseVectorLoops.Zip(new VectorOps.Add<float>(), sum, x.Select(v => v * 2).ToArray(), sum);
            for (int i = 0; i < n; i++)
            {
                Assert.True(Same(MathF.FusedMultiplyAdd(x[i], 3, 1), buffer[i]), $"n={n} i={i}");
                Assert.True(Same(x[i] + x[i] * 2, sum[i]), $"n={n} i={i}");
            }
        }
    }

    [Fact]
    public void TranscendentalOpsStayWithinUlpsOfFloat64Math()
    {
        // Loom's vector exp is within an ulp (.NET's vector exp 1.8, scalar MathF.Exp 0.5); the ops built on it add a rounding or two.
        var failures = new List<string>();
        Func<double, double> gelu = x => 0.5 * x * (1 + ElementwiseMath.Erf(x / Math.Sqrt(2)));
        // x/2·(1 + tanh(u)) = x/(1 + e^-2u): the second form keeps the negative tail in float64 too.
        Func<double, double> geluTanh = x => x / (1 + Math.Exp(-2 * Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
        Within(failures, "Exp", new VectorMathOps.Exp(), Math.Exp, 1.01, -104, 89); // subnormal results in ulps of their spacing
        Within(failures, "Log", new VectorMathOps.Log(), Math.Log, 1.5, 0, 1e6f);
        Within(failures, "Sigmoid", new VectorMathOps.Sigmoid(), x => 1 / (1 + Math.Exp(-x)), 2.5, -100, 100);
        Within(failures, "Tanh", new VectorMathOps.Tanh(), Math.Tanh, 1.5, -12, 12);
        Within(failures, "Tanh near 0", new VectorMathOps.Tanh(), Math.Tanh, 2, -1e-3f, 1e-3f);
        Within(failures, "Erf", new VectorMathOps.Erf(), ElementwiseMath.Erf, 1.01, -5, 5);
        Within(failures, "Erf near 0", new VectorMathOps.Erf(), ElementwiseMath.Erf, 1.5, -1e-3f, 1e-3f);
        Within(failures, "Gelu", new VectorMathOps.Gelu(), gelu, 2.5, -1, 8);
        Within(failures, "Mish", new VectorMathOps.Mish(), x => x * Math.Tanh(ElementwiseMath.Softplus(x)), 4.5, -80, 60);
        Within(failures, "GeluTanh", new VectorMathOps.GeluTanh(), geluTanh, 4, -1, 8);
        // Below -1 the float32 argument x/√2 (or u) already carries a relative error growing like x², so
        // the tails are held to a relative bound instead: still well inside ONNX's rtol of 1e-3, and
        // tighter than ONNX Runtime's own 0.5·x·(1 + erf) in float32.
        Within(failures, "Gelu tail", new VectorMathOps.Gelu(), gelu, 0, -5.5f, -1, relative: 2e-4);
        Within(failures, "GeluTanh tail", new VectorMathOps.GeluTanh(), geluTanh, 0, -8, -1, relative: 2e-5);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void GeluTailsAreTinyAbsoluteErrors()
    {
        // Beyond x = -5.55 the exact Gelu is above -3e-8; Loom returns -0 there.
        foreach (float x in new[] { -5.6f, -8f, -30f, -1e10f })
        {
            double exact = 0.5 * x * (1 + ElementwiseMath.Erf(x / Math.Sqrt(2)));
            float got = new VectorMathOps.Gelu().Invoke(x);
            Assert.True(Math.Abs(got - exact) < 1e-7, $"x={x}: {got} vs {exact}");
        }
        Assert.True(float.IsNaN(new VectorMathOps.Gelu().Invoke(float.NegativeInfinity))); // -inf·0, as the reference
        Assert.Equal(float.PositiveInfinity, new VectorMathOps.Gelu().Invoke(float.PositiveInfinity));
    }

    private static void ExactUnary<TF, TD>(List<string> failures, string name, TF f, TD d)
        where TF : struct, IVectorUnaryOp<float> where TD : struct, IVectorUnaryOp<double>
    {
        foreach (int n in Lengths)
        {
            var x = Floats(n, n);
            var y = new float[n];
            ElementwiseVectorLoops.Map(f, x, y);
            for (int i = 0; i < n; i++)
                if (!Same(f.Invoke(x[i]), y[i])) { failures.Add($"{name} float n={n} i={i}: x={x[i]} scalar {f.Invoke(x[i])} vector {y[i]}"); break; }
            var xd = Doubles(n, n);
            var yd = new double[n];
            ElementwiseVectorLoops.Map(d, xd, yd);
            for (int i = 0; i < n; i++)
                if (!Same(d.Invoke(xd[i]), yd[i])) { failures.Add($"{name} double n={n} i={i}: x={xd[i]} scalar {d.Invoke(xd[i])} vector {yd[i]}"); break; }
        }
    }

    private static void ExactBinary<TF, TD>(List<string> failures, string name, TF f, TD d)
        where TF : struct, IVectorBinaryOp<float> where TD : struct, IVectorBinaryOp<double>
    {
        foreach (int n in Lengths)
        {
            CheckRows(failures, name, f, Floats(n, n), Floats(n, n + 1000), Same);
            CheckRows(failures, name, d, Doubles(n, n), Doubles(n, n + 1000), Same);
        }
    }

    /// <summary>All four row forms of <see cref="ElementwiseVectorLoops.ZipRow"/>: both advance, either repeats, both repeat.</summary>
    private static void CheckRows<TOp, T>(List<string> failures, string name, TOp op, T[] x, T[] y, Func<T, T, bool> same)
        where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        int n = x.Length;
        foreach (var (sx, sy) in new[] { (1, 1), (1, 0), (0, 1), (0, 0) })
        {
            var z = new T[n];
            ElementwiseVectorLoops.ZipRow(op, x, sx, y, sy, z, n);
            for (int i = 0; i < n; i++)
            {
                T expected = op.Invoke(x[i * sx], y[i * sy]);
                if (!same(expected, z[i])) { failures.Add($"{name} {typeof(T).Name} strides ({sx},{sy}) n={n} i={i}: {x[i * sx]}, {y[i * sy]} scalar {expected} vector {z[i]}"); return; }
            }
        }
    }

    /// <summary>
    /// Every length 1..256 of random inputs in [lo, hi] (for the tails), then a dense sweep of [lo, hi] (for
    /// the accuracy claim); at most <paramref name="maxUlps"/>, or with <paramref name="relative"/> that relative error.
    /// </summary>
    private static void Within<TOp>(List<string> failures, string name, TOp op, Func<double, double> exact, double maxUlps, float lo, float hi, double relative = 0)
        where TOp : struct, IVectorUnaryOp<float>
    {
        const int Sweep = 200_000;
        foreach (int n in Lengths.Append(Sweep))
        {
            var x = n < Sweep
                ? Floats(n, n, 1).Select(v => float.IsFinite(v) && Math.Abs(v) <= 1 ? lo + (hi - lo) * (v + 1) / 2 : v).ToArray()
                : Enumerable.Range(0, n + 1).Select(i => lo + (hi - lo) * i / n).ToArray();
            var y = new float[x.Length];
            ElementwiseVectorLoops.Map(op, x, y);
            for (int i = 0; i < x.Length; i++)
            {
                double e = exact(x[i]);
                bool ok = relative > 0 ? Math.Abs(y[i] - e) <= relative * Math.Abs(e) : Ulps(y[i], e) <= maxUlps;
                // Special values outside [lo, hi] only need to agree in kind (NaN, infinity, zero sign aside).
                if (!float.IsFinite(x[i]) || x[i] < lo || x[i] > hi) ok = float.IsNaN(y[i]) == double.IsNaN(e) && (!double.IsInfinity(e) || y[i] == e);
                if (!ok)
                {
                    failures.Add($"{name} n={n}: x={x[i]:R} gives {y[i]:R}, exact {e:R} ({Ulps(y[i], e):F2} ulps)");
                    return;
                }
            }
        }
    }

}
