using Loom.Kernels.Common;
using static Loom.Tests.Kernels.VectorTestData;

namespace Loom.Tests.Kernels;

/// <summary>
/// The SIMD folds and row loops of reductions, Softmax and the normalizations against scalar float64
/// loops, at every length 1..256 (every tail of every width). Rerun per ISA by <see cref="IsaMatrixTests"/>.
/// </summary>
public class ReduceVectorTests
{
    private static readonly int[] Lengths = [.. Enumerable.Range(1, 256), 1000, 4099];

    [Fact]
    public void SumsMatchSequentialFloat64Sums()
    {
        foreach (int n in Lengths)
        {
            var x = Floats(n, n).Select(v => float.IsFinite(v) && Math.Abs(v) < 1e30 ? v : 1.5f).ToArray();
            Near(x.Sum(v => (double)v), ReduceVector.Sum(x, new ReduceVector.Value()), x.Sum(v => Math.Abs((double)v)), n);
            Near(x.Sum(v => (double)v * v), ReduceVector.Sum(x, new ReduceVector.Square()), x.Sum(v => (double)v * v), n);
            Near(x.Sum(v => Math.Abs((double)v)), ReduceVector.Sum(x, new ReduceVector.Magnitude()), x.Sum(v => Math.Abs((double)v)), n);
            Near(x.Sum(v => (v - 0.25) * (v - 0.25)), ReduceVector.Sum(x, new ReduceVector.SquaredDeviation(0.25)), x.Sum(v => (v - 0.25) * (v - 0.25)), n);
        }
    }

    [Fact]
    public void FoldsGiveTheExtremeOrNaN()
    {
        foreach (int n in Lengths)
        {
            var x = Floats(n, n);
            float max = float.NegativeInfinity, min = float.PositiveInfinity;
            foreach (var v in x) { max = float.Max(max, v); min = float.Min(min, v); }
            Assert.True(Same(max, ReduceVector.Fold(x, new VectorOps.Max<float>(), float.NegativeInfinity)), $"max n={n}");
            Assert.True(Same(min, ReduceVector.Fold(x, new VectorOps.Min<float>(), float.PositiveInfinity)), $"min n={n}");
            var finite = x.Where(float.IsFinite).ToArray();
            Assert.Equal(finite.Length == 0 ? float.NegativeInfinity : finite.Max(), ReduceVector.Fold(finite, new VectorOps.Max<float>(), float.NegativeInfinity));
        }
    }

    [Fact]
    public void ColumnAccumulationAddsEachElementOnce()
    {
        foreach (int n in Lengths)
        {
            var x = Floats(n, n, 100).Select(v => float.IsFinite(v) ? v : 2f).ToArray();
            var acc = Enumerable.Range(0, n + 3).Select(i => (double)i).ToArray();
            ReduceVector.Accumulate(x, acc, new ReduceVector.Square());
            for (int i = 0; i < n; i++) Assert.Equal(i + (double)x[i] * x[i], acc[i]);
            for (int i = n; i < n + 3; i++) Assert.Equal(i, acc[i]);
        }
    }

    [Fact]
    public void NormalizeRoundsTheFloat64ResultOnce()
    {
        foreach (int n in Lengths)
        {
            var x = Floats(n, n);
            var scale = Doubles(n, n + 1);
            var bias = Doubles(n, n + 2);
            var y = new float[n];
            var z = new float[n];
            NormalizationVector.Normalize(x, y, 0.3, 1.7, scale, bias);
            NormalizationVector.Normalize(x, z, -0.3, 0.7, 1.25, -2);
            for (int i = 0; i < n; i++)
            {
                Assert.True(Same((float)((x[i] - 0.3) * 1.7 * scale[i] + bias[i]), y[i]), $"n={n} i={i}");
                Assert.True(Same((float)((x[i] + 0.3) * 0.7 * 1.25 - 2), z[i]), $"n={n} i={i}");
            }
        }
    }

    [Fact]
    public void ExpShiftedIsAccurateAndSumsWhatItStores()
    {
        foreach (int n in Lengths)
        {
            var x = Floats(n, n, 30).Select(v => float.IsNaN(v) ? -3f : v).ToArray();
            float max = x.Max();
            var y = new float[n];
            double sum = NormalizationVector.ExpShifted(x, y, max);
            if (!double.IsNaN(sum)) Near(y.Sum(v => (double)v), sum, y.Sum(v => (double)v), n);
            for (int i = 0; i < n; i++)
            {
                double exact = Math.Exp((double)x[i] - max);
                if (float.IsPositiveInfinity(max)) Assert.True(float.IsNaN(y[i]) || y[i] == 0, $"n={n} i={i}: {y[i]}");
                else Assert.True(Ulps(y[i], exact) <= 2.5, $"n={n} i={i}: e^({x[i]} - {max}) = {y[i]}, exact {exact} ({Ulps(y[i], exact):F2} ulps)");
            }
        }
    }

    [Fact]
    public void ColumnFormsMatchTheRowForms()
    {
        foreach (int n in Lengths)
        {
            var x = Floats(n, n, 30).Select(v => float.IsNaN(v) ? -3f : v).ToArray();
            var max = x.Select((v, i) => Math.Max(v, i % 5)).ToArray();
            var y = new float[n];
            var sums = Enumerable.Repeat(0.5, n).ToArray();
            NormalizationVector.ExpShifted(x, max, y, sums);
            var one = new float[1];
            for (int i = 0; i < n; i++)
            {
                NormalizationVector.ExpShifted(x.AsSpan(i, 1), one, max[i]);
                Assert.True(Same(one[0], y[i]), $"n={n} i={i}: {y[i]} vs {one[0]}");
                Assert.Equal(0.5 + y[i], sums[i]);
            }
            var factors = Doubles(n, n + 7);
            NormalizationVector.Affine(x, y, factors, subtract: false);
            for (int i = 0; i < n; i++) Assert.True(Same((float)(x[i] * factors[i]), y[i]));
            NormalizationVector.Affine(x, y, factors, subtract: true);
            for (int i = 0; i < n; i++) Assert.True(Same((float)(x[i] - factors[i]), y[i]));
        }
    }

    [Fact]
    public void AffineRoundsOnce()
    {
        foreach (int n in Lengths)
        {
            var x = Floats(n, n);
            var y = new float[n];
            NormalizationVector.Affine(x, y, 0.1, subtract: false);
            for (int i = 0; i < n; i++) Assert.True(Same((float)(x[i] * 0.1), y[i]));
            var z = (float[])x.Clone();
            NormalizationVector.Affine(z, z, 0.1, subtract: true); // in place
            for (int i = 0; i < n; i++) Assert.True(Same((float)(x[i] - 0.1), z[i]));
        }
    }

    /// <summary>Float64 sums of n terms in another order differ by at most about n ulps of the sum of magnitudes.</summary>
    private static void Near(double expected, double actual, double magnitude, int n) =>
        Assert.True(Math.Abs(expected - actual) <= 8 * double.Epsilon + n * 2.3e-16 * magnitude, $"n={n}: {actual:R} vs {expected:R}");
}
