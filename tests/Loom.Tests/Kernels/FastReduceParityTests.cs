using static Loom.Tests.Kernels.VectorTestData;
using static Loom.Tests.Support.ParityRunner;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// The fast reductions, Softmax and normalizations against the reference kernels on random shapes and
/// axes (primes, sizes around the vector widths, tensors split over the worker pool). Sums accumulate in
/// float64 in another order than the reference, so results may differ in the last float32 bit.
/// </summary>
public class FastReduceParityTests
{
    private static readonly int[][] Shapes =
        [.. new int[][] { [1], [7], [64], [257], [2, 3], [3, 17], [5, 1, 33], [2, 3, 4, 5], [4, 16, 9, 11], [3, 50_000], [200, 300] }
            .Where(s => !IsaMatrixTests.IsChildRun || ShapeMath.Size(s) < 10_000)];

    public static TheoryData<string> Reductions() =>
        ["ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceMax", "ReduceMin"];

    [Theory, MemberData(nameof(Reductions))]
    public void ReductionsMatchTheReferenceOverAnyAxes(string op)
    {
        var rng = new Random(SeedOf(op));
        double ulps = op is "ReduceMax" or "ReduceMin" ? 0 : 1;
        foreach (var shape in Shapes)
        {
            var x = Tensor.FromArray(Floats((int)ShapeMath.Size(shape), rng.Next()).Select(v => float.IsFinite(v) && Math.Abs(v) < 1e6 ? v : 3f).ToArray(), shape);
            for (int k = 0; k < 3; k++)
            {
                var axes = Enumerable.Range(0, shape.Length).Where(_ => rng.Next(2) == 0).Select(a => (long)(rng.Next(2) == 0 ? a : a - shape.Length)).ToArray();
                var keep = Attr.Int("keepdims", rng.Next(2));
                AssertSame(op, [keep], [x, Tensor.FromArray(axes, axes.Length)], ulps, opset: 18); // empty axes: reduce all
                AssertSame(op, axes.Length == 0 ? [keep] : [keep, Attr.Ints("axes", axes)], [x], ulps, opset: 11);
            }
            AssertSame(op, null, [x, Tensor.FromArray(new long[] { shape.Length - 1 }, 1)], ulps, opset: 18); // innermost: rows in parallel
            AssertSame(op, null, [x, Tensor.FromArray(new long[] { 0 }, 1)], ulps, opset: 18);                // outermost: columns in parallel
        }
    }

    [Theory]
    [InlineData("Softmax")]
    [InlineData("LogSoftmax")]
    public void SoftmaxMatchesTheReference(string op)
    {
        var rng = new Random(3);
        foreach (var shape in Shapes)
        {
            // Values spread over 60 so the smallest probabilities are tiny; NaN and infinities included.
            var x = Tensor.FromArray(Floats((int)ShapeMath.Size(shape), rng.Next(), 30).Select(v => float.IsFinite(v) ? Math.Clamp(v, -40, 40) : v).ToArray(), shape);
            // The vector exp is within 1.8 ulps, e^(x - max) within 2.3; the reference computes in float64.
            double ulps = op == "Softmax" ? 5 : 2, absolute = op == "Softmax" ? 0 : 1e-6;
            AssertSame(op, null, [x], ulps, absolute: absolute);                                       // last axis
            AssertSame(op, [Attr.Int("axis", 0)], [x], ulps, opset: 11, absolute: absolute);          // whole tensor, flattened
            AssertSame(op, [Attr.Int("axis", 0)], [x], ulps, absolute: absolute);                     // an outer axis: by columns
            if (shape.Length >= 3) AssertSame(op, [Attr.Int("axis", 1)], [x], ulps, absolute: absolute); // channels of NCHW
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void LayerNormalizationMatchesTheReference(bool bias, bool constants)
    {
        var rng = new Random(bias ? 5 : 6);
        foreach (var shape in Shapes.Where(s => s.Length >= 2))
            foreach (int axis in new[] { -1, 1 - shape.Length })
            {
                int a = axis + shape.Length;
                var normalized = shape[a..];
                var x = Tensor.FromArray(Floats((int)ShapeMath.Size(shape), rng.Next(), 4).Select(v => float.IsFinite(v) && Math.Abs(v) < 1e6 ? v : 1f).ToArray(), shape);
                var scale = Tensor.FromArray(Floats((int)ShapeMath.Size(normalized), rng.Next(), 2), normalized);
                var b = Tensor.FromArray(Floats((int)ShapeMath.Size(normalized), rng.Next(), 2), normalized);
                AssertSame("LayerNormalization", [Attr.Int("axis", axis)], bias ? [x, scale, b] : [x, scale], 1, opset: 17, outputs: 3, constants: constants);
                AssertSame("RMSNormalization", [Attr.Int("axis", axis)], [x, scale], 1, opset: 23, constants: constants);
            }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchAndInstanceNormalizationMatchTheReference(bool constants)
    {
        var rng = new Random(constants ? 7 : 8);
        foreach (var shape in new[] { new[] { 1, 3, 5, 7 }, [2, 16, 9, 11], [3, 5], [2, 4, 17], [1, 8, 96, 97] }.Where(s => !IsaMatrixTests.IsChildRun || s[^1] < 90))
        {
            int c = shape[1];
            var x = Tensor.FromArray(Floats((int)ShapeMath.Size(shape), rng.Next(), 8).Select(v => float.IsFinite(v) && Math.Abs(v) <= 100 ? v : 0.5f).ToArray(), shape);
            Tensor Param(double lo, double hi) => Tensor.FromArray(Enumerable.Range(0, c).Select(_ => (float)(lo + (hi - lo) * rng.NextDouble())).ToArray(), c);
            var (scale, bias, mean, variance) = (Param(0.5, 2), Param(-1, 1), Param(-1, 1), Param(0.1, 2));
            // Folded into y = x·a + b in float32 (as ONNX Runtime does): within a few ulps of the larger term.
            AssertSame("BatchNormalization", null, [x, scale, bias, mean, variance], 2, opset: 15, absolute: 2e-5, constants: constants);
            if (shape.Length >= 3) AssertSame("InstanceNormalization", null, [x, scale, bias], 1, constants: constants);
        }
    }
}
