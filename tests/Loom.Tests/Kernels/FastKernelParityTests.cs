using static Loom.Tests.Kernels.VectorTestData;
using static Loom.Tests.Support.ParityRunner;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// Every fast kernel against the reference kernel it replaces, on random shapes: broadcasting patterns,
/// sizes 1, primes and non-multiples of the vector width, and tensors large enough to be split over
/// the worker pool (run with 3 threads so the parts are uneven). Exactly rounded ops must agree bit for
/// bit; the others within the ulps their vector math is tested to.
/// </summary>
public class FastKernelParityTests
{
    private static readonly int[] Sizes = [1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 64, 97];

    public static TheoryData<string> BinaryOps() => ["Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "PRelu"];

    [Theory, MemberData(nameof(BinaryOps))]
    public void BinaryOpsMatchTheReferenceOnBroadcastShapes(string op)
    {
        var rng = new Random(SeedOf(op));
        foreach (var (a, b) in BroadcastPairs(rng))
        {
            if (op == "PRelu" && !Unidirectional(b, a)) continue;
            foreach (bool dbl in new[] { false, true })
            {
                var x = Input(a, rng.Next(), dbl);
                var y = Input(b, rng.Next(), dbl);
                AssertSame(op, null, [x, y], maxUlps: 0);
            }
        }
    }

    public static TheoryData<string, double> UnaryOps() => new()
    {
        { "Relu", 0 }, { "LeakyRelu", 0 }, { "HardSigmoid", 0 }, { "HardSwish", 0 }, { "Neg", 0 }, { "Abs", 0 },
        { "Sqrt", 0 }, { "Reciprocal", 0 }, { "Exp", 2 }, { "Log", 2 }, { "Sigmoid", 4.5 }, { "Tanh", 4 }, { "Erf", 1.5 },
        { "Mish", 5 },
    };

    [Theory, MemberData(nameof(UnaryOps))]
    public void UnaryOpsMatchTheReference(string op, double maxUlps)
    {
        var attrs = op switch
        {
            "LeakyRelu" => [Attr.Float("alpha", 0.1f)],
            "HardSigmoid" => new[] { Attr.Float("alpha", 0.3f), Attr.Float("beta", 0.4f) },
            _ => null,
        };
        var rng = new Random(SeedOf(op));
        foreach (var shape in Shapes(rng))
        {
            // Subnormal results of the transcendental ops may differ beyond their ulp bound (Loom's exp flushes below e^-104).
            AssertSame(op, attrs, [Input(shape, rng.Next(), false)], maxUlps, absolute: maxUlps > 0 ? 1e-38 : 0);
            if (op is not ("Sigmoid" or "Tanh" or "Erf" or "Exp" or "Log" or "Mish")) AssertSame(op, attrs, [Input(shape, rng.Next(), true)], maxUlps);
        }
    }

    [Theory]
    [InlineData("none", 3)]
    [InlineData("tanh", 4)]
    public void GeluMatchesTheReferenceNearZero(string approximate, double maxUlps)
    {
        // Away from the negative tail, where ElementwiseVectorTests holds Gelu to a relative bound instead.
        var rng = new Random(5);
        foreach (var shape in Shapes(rng))
        {
            var x = Tensor.FromArray(Floats((int)ShapeMath.Size(shape), rng.Next(), 1).Select(v => float.IsFinite(v) ? Math.Clamp(v, -1, 8) : v).ToArray(), shape);
            AssertSame("Gelu", [Attr.String("approximate", approximate)], [x], maxUlps, opset: 20);
        }
    }

    [Fact]
    public void ClipMatchesTheReferenceWithEveryBoundForm()
    {
        var rng = new Random(11);
        foreach (var shape in Shapes(rng))
        {
            var x = Input(shape, rng.Next(), false);
            AssertSame("Clip", null, [x, Tensor.Scalar(-1.5f), Tensor.Scalar(6f)], 0);
            AssertSame("Clip", null, [x, null, Tensor.Scalar(0.25f)], 0);
            AssertSame("Clip", null, [x, Tensor.Scalar(2f), Tensor.Scalar(1f)], 0); // min > max: every element becomes max
            AssertSame("Clip", null, [x], 0);
            AssertSame("Clip", [Attr.Float("min", -1), Attr.Float("max", 1)], [x], 0, opset: 6);
        }
    }

    [Fact]
    public void PowWithExponentTwoAndOneHalfMatchesTheReference()
    {
        var rng = new Random(13);
        foreach (var shape in Shapes(rng))
            foreach (bool dbl in new[] { false, true })
            {
                var x = Input(shape, rng.Next(), dbl);
                // float64's x·x is the correctly rounded square (as ONNX Runtime computes Pow(x, 2)); the
                // reference's pow may be an ulp off it (and off the square root). In float32 both round the exact value.
                foreach (double e in new[] { 2, 0.5, 3 })
                    AssertSame("Pow", null, [x, dbl ? Tensor.Scalar(e) : Tensor.Scalar((float)e)], dbl && e != 3 ? 1 : 0);
            }
    }

    [Fact]
    public void WhereMatchesTheReferenceOnThreeWayBroadcasts()
    {
        var rng = new Random(17);
        foreach (var (a, b) in BroadcastPairs(rng))
        {
            var c = a.Select(d => rng.Next(3) == 0 ? 1 : d).ToArray();
            var cond = Tensor.FromArray(Enumerable.Range(0, (int)ShapeMath.Size(c)).Select(_ => rng.Next(2) == 0).ToArray(), c);
            var x = Input(a, rng.Next(), false);
            var y = Input(b, rng.Next(), false);
            AssertSame("Where", null, [cond, x, y], 0);
            AssertSame("Where", null, [cond, Input(b, rng.Next(), true), Input(a, rng.Next(), true)], 0);
            var lx = Tensor.FromArray(x.ToArray<float>().Select(v => float.IsFinite(v) ? (long)(v * 1e6) : long.MaxValue).ToArray(), a);
            var ly = Tensor.FromArray(y.ToArray<float>().Select(v => float.IsFinite(v) ? (long)(v * -1e6) : long.MinValue).ToArray(), b);
            AssertSame("Where", null, [cond, lx, ly], 0);
            AssertSame("Where", null, [cond, Tensor.FromArray(x.ToArray<float>().Select(v => (int)v).ToArray(), a), Tensor.FromArray(y.ToArray<float>().Select(v => (int)v).ToArray(), b)], 0);
        }
    }

    [Fact]
    public void CastMatchesTheReferenceBitForBit()
    {
        var rng = new Random(19);
        foreach (var shape in Shapes(rng))
        {
            int n = (int)ShapeMath.Size(shape);
            // Integers at the edges of int32 and int64, float16's overflow and subnormal ranges, NaN and ±∞.
            var f = Floats(n, rng.Next(), 70000).Select((v, i) => (i % 7) switch { 0 => v * 1e5f, 1 => v * 1e-6f, 2 => v * 3e4f, _ => v }).ToArray();
            var x = Tensor.FromArray(f, shape);
            foreach (var to in new[] { DataType.Float16, DataType.Double, DataType.Int32, DataType.Int64 })
                AssertSame("Cast", [Attr.Int("to", (int)to)], [x], 0);
            var sources = new[]
            {
                Tensor.FromArray(f.Select(v => (Half)v).ToArray(), shape),
                Tensor.FromArray(f.Select(v => (double)v * 1.0000001).ToArray(), shape),
                Tensor.FromArray(f.Select(v => float.IsFinite(v) ? (int)(v * 3e4f) : int.MaxValue).ToArray(), shape),
                Tensor.FromArray(f.Select(v => float.IsFinite(v) ? (long)(v * 1e14) : long.MinValue + 1).ToArray(), shape),
                Tensor.FromArray(f.Select(v => v > 0).ToArray(), shape),
            };
            foreach (var s in sources) AssertSame("Cast", [Attr.Int("to", (int)DataType.Float)], [s], 0);
            AssertSame("CastLike", null, [x, Tensor.Scalar((Half)1)], 0);
        }
    }

    [Theory]
    [InlineData("Add", 14), InlineData("Mul", 14), InlineData("Div", 14), InlineData("Max", 13), InlineData("Relu", 14), InlineData("Sigmoid", 13)]
    [InlineData("HardSigmoid", 6), InlineData("HardSwish", 14), InlineData("Clip", 13), InlineData("Clip", 6), InlineData("Erf", 13), InlineData("Pow", 15)]
    [InlineData("ReduceMean", 13), InlineData("ReduceSum", 13), InlineData("Softmax", 13), InlineData("LayerNormalization", 17)]
    [InlineData("BatchNormalization", 15), InlineData("Where", 16), InlineData("Cast", 19)]
    public void FastKernelsAreChosenForFloat32(string op, int opset)
    {
        var f = new IR.TensorType(DataType.Float, null);
        var node = new IR.Node(op, ["x", "y", "z"], ["out"], op == "Cast" ? [Attr.Int("to", (int)DataType.Float16)] : null, "op", "");
        var types = op == "Where" ? new IR.IrType?[] { new IR.TensorType(DataType.Bool, null), f, f } : [f, f, f];
        var info = new Loom.Kernels.KernelInfo(node, opset, types, [f], _ => throw new NotSupportedException(), _ => null, new LoomSessionOptions());
        var kernel = Loom.Kernels.KernelRegistry.Default.Resolve(info)(info);
        Assert.Equal("Loom.Kernels.Fast", kernel.GetType().Namespace);
    }

    // ---- helpers ----

    /// <summary>Output shapes of ranks 0-4 with the interesting sizes, two big enough to run in parallel, and a few random ones.</summary>
    private static IEnumerable<int[]> Shapes(Random rng)
    {
        int[][] fixedShapes = [[], [1], [7], [17], [64], [97], [2, 3], [5, 16], [3, 1, 7], [2, 13, 8], [4, 3, 5, 17], [1, 16, 96, 97]];
        foreach (var shape in fixedShapes)
            if (!IsaMatrixTests.IsChildRun || ShapeMath.Size(shape) < 100_000) yield return shape;
        for (int k = 0; k < (IsaMatrixTests.IsChildRun ? 1 : 4); k++)
        {
            int[] shape;
            do shape = [.. Enumerable.Range(0, rng.Next(2, 5)).Select(_ => Sizes[rng.Next(Sizes.Length)])];
            while (ShapeMath.Size(shape) > 100_000); // the fixed shapes already cover tensors split over the pool
            yield return shape;
        }
    }

    /// <summary>Pairs of input shapes that broadcast: dims dropped to 1 or left off in either input.</summary>
    private static IEnumerable<(int[], int[])> BroadcastPairs(Random rng)
    {
        foreach (var shape in Shapes(rng))
        {
            yield return (shape, shape);
            yield return (shape, []);
            if (shape.Length >= 3) yield return (shape, [shape[1], .. Enumerable.Repeat(1, shape.Length - 2)]); // a per-channel operand
            if (ShapeMath.Size(shape) > 100_000) continue; // big enough for the worker pool: the main patterns suffice
            yield return ([], shape);
            for (int k = 0; k < 2; k++)
            {
                var a = shape.Select(d => rng.Next(4) == 0 ? 1 : d).ToArray();
                var b = shape.Select(d => rng.Next(3) == 0 ? 1 : d).ToArray();
                yield return (a, b.Skip(rng.Next(b.Length + 1)).ToArray());
            }
        }
    }

    /// <summary>True when <paramref name="small"/> broadcasts to <paramref name="big"/> without growing it (PRelu's slope).</summary>
    private static bool Unidirectional(int[] small, int[] big) =>
        small.Length <= big.Length && small.Select((d, i) => d == 1 || d == big[big.Length - small.Length + i]).All(ok => ok);
}
