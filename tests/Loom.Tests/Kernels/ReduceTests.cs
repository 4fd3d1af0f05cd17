using Loom.Tests.Support;
using A = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>Reduce* with hand-computed values: axes forms, keepdims, empty sets, integer and bool types.</summary>
public sealed class ReduceTests
{
    // x = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], shape [2, 2, 2]
    private static Tensor Cube() => OpTester.F([1, 2, 3, 4, 5, 6, 7, 8], 2, 2, 2);

    private static Tensor Run(string op, Tensor x, long[]? axes, int keepDims = 1, int noop = 0, int opset = 18)
    {
        var attrs = new List<A> { A.Int("keepdims", keepDims) };
        if (noop != 0) attrs.Add(A.Int("noop_with_empty_axes", noop));
        var axesInput = axes is null ? null : OpTester.L(axes, axes.Length);
        return OpTester.Run(op, attrs, 1, opset, "", x, axesInput)[0];
    }

    [Fact]
    public void SumOverNonAdjacentAxesKeepsDims()
    {
        var y = Run("ReduceSum", Cube(), [0, 2]);
        Assert.Equal([1, 2, 1], y.Shape.ToArray());
        OpTester.AssertClose([1 + 2 + 5 + 6, 3 + 4 + 7 + 8], y);
    }

    [Fact]
    public void NegativeAxisWithoutKeepDims()
    {
        var y = Run("ReduceMax", Cube(), [-1], keepDims: 0);
        Assert.Equal([2, 2], y.Shape.ToArray());
        OpTester.AssertClose([2, 4, 6, 8], y);
    }

    [Fact]
    public void MissingAxesReducesEverything()
    {
        var y = Run("ReduceMean", Cube(), null, keepDims: 0);
        Assert.Equal(0, y.Rank);
        OpTester.AssertClose([4.5f], y);
    }

    [Fact]
    public void EmptyAxesWithNoopIsIdentityPlusTheElementwiseStep()
    {
        var x = OpTester.F([1, -2, 3], 3);
        OpTester.AssertClose([1, 4, 9], Run("ReduceSumSquare", x, [], noop: 1));
        OpTester.AssertClose([1, 2, 3], Run("ReduceL1", x, [], noop: 1));
        var log = Run("ReduceLogSum", OpTester.F([1, 2], 2), null, noop: 1);
        OpTester.AssertClose([0, MathF.Log(2)], log);
    }

    [Fact]
    public void AxesAttributeBeforeOpset18()
    {
        var y = OpTester.Run("ReduceProd", [A.Ints("axes", [1]), A.Int("keepdims", 0)], 1, 13, "", Cube())[0];
        OpTester.AssertClose([1 * 3, 2 * 4, 5 * 7, 6 * 8], y);
        var s = OpTester.Run("ReduceSum", [A.Ints("axes", [0])], 1, 11, "", Cube())[0];
        OpTester.AssertClose([6, 8, 10, 12], s);
    }

    [Theory]
    [InlineData("ReduceSum", 0f)]
    [InlineData("ReduceSumSquare", 0f)]
    [InlineData("ReduceL1", 0f)]
    [InlineData("ReduceL2", 0f)]
    [InlineData("ReduceProd", 1f)]
    [InlineData("ReduceMax", float.NegativeInfinity)]
    [InlineData("ReduceMin", float.PositiveInfinity)]
    [InlineData("ReduceLogSum", float.NegativeInfinity)]
    [InlineData("ReduceLogSumExp", float.NegativeInfinity)]
    public void EmptySetGivesTheIdentity(string op, float expected)
    {
        var x = Tensor.FromArray(Array.Empty<float>(), 2, 0, 4);
        var y = Run(op, x, [1], opset: 20);
        Assert.Equal([2, 1, 4], y.Shape.ToArray());
        Assert.All(y.ToArray<float>(), v => Assert.Equal(expected, v));
    }

    [Fact]
    public void MeanOfEmptySetIsZeroAsInOnnxRuntime()
    {
        var y = Run("ReduceMean", Tensor.FromArray(Array.Empty<float>(), 0, 3), [0], keepDims: 0);
        Assert.Equal([3], y.Shape.ToArray());
        Assert.All(y.ToArray<float>(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void NaNPropagatesAsInNumPy()
    {
        var x = OpTester.F([1, float.NaN, 3, 4, 5, 6], 2, 3);
        var max = Run("ReduceMax", x, [1], keepDims: 0).ToArray<float>();
        Assert.True(float.IsNaN(max[0]));
        Assert.Equal(6f, max[1]);
        var arg = OpTester.Run("ArgMin", [A.Int("axis", 1), A.Int("keepdims", 0)], x)[0];
        Assert.Equal([1L, 0L], arg.ToArray<long>());
    }

    [Fact]
    public void EmptyNonReducedAxisGivesEmptyOutput()
    {
        var y = Run("ReduceSum", Tensor.FromArray(Array.Empty<float>(), 2, 0, 4), [2]);
        Assert.Equal([2, 0, 1], y.Shape.ToArray());
    }

    [Fact]
    public void ScalarInput()
    {
        var y = Run("ReduceSum", Tensor.Scalar(5f), null, keepDims: 1);
        Assert.Equal(0, y.Rank);
        OpTester.AssertClose([5], y);
    }

    [Fact]
    public void LogSumExpIsStableAndHandlesInfinities()
    {
        var big = Run("ReduceLogSumExp", OpTester.F([1000, 1000], 2), null, keepDims: 0);
        OpTester.AssertClose([1000 + MathF.Log(2)], big);
        var inf = Run("ReduceLogSumExp", OpTester.F([float.NegativeInfinity, float.NegativeInfinity, 1, float.PositiveInfinity], 2, 2), [1], keepDims: 0);
        Assert.Equal([float.NegativeInfinity, float.PositiveInfinity], inf.ToArray<float>());
    }

    [Fact]
    public void Int32SumWrapsLikeNumPy()
    {
        var x = Tensor.FromArray(new[] { int.MaxValue, 1, -5 }, 3);
        var y = Run("ReduceSum", x, null, keepDims: 0);
        Assert.Equal(unchecked(int.MaxValue + 1 - 5), y.ToArray<int>()[0]);
    }

    [Fact]
    public void Int64StaysExact()
    {
        long big = (1L << 60) + 1;
        var x = Tensor.FromArray(new[] { big, 1L, big, 3L }, 2, 2);
        Assert.Equal([big + 1, big + 3], Run("ReduceSum", x, [1], keepDims: 0).ToArray<long>());
        Assert.Equal([big, big], Run("ReduceMax", x, [1], keepDims: 0).ToArray<long>());
        // Integer mean: sum, true division, truncation toward zero.
        var m = Run("ReduceMean", Tensor.FromArray(new long[] { -3, -4, 5, 6 }, 2, 2), [1], keepDims: 0);
        Assert.Equal([-3L, 5L], m.ToArray<long>());
    }

    [Fact]
    public void BoolMaxIsAnyAndMinIsAll()
    {
        var x = Tensor.FromArray(new[] { true, false, false, false, true, true }, 3, 2);
        Assert.Equal([true, false, true], Run("ReduceMax", x, [1], opset: 20).ToArray<bool>());
        Assert.Equal([false, false, true], Run("ReduceMin", x, [1], opset: 20).ToArray<bool>());
        var empty = Tensor.FromArray(Array.Empty<bool>(), 2, 0);
        Assert.Equal([false, false], Run("ReduceMax", empty, [1], keepDims: 0, opset: 20).ToArray<bool>());
        Assert.Equal([true, true], Run("ReduceMin", empty, [1], keepDims: 0, opset: 20).ToArray<bool>());
    }

    [Fact]
    public void DuplicateAxesAreRejected()
    {
        Assert.ThrowsAny<LoomException>(() => Run("ReduceSum", Cube(), [1, -2]));
    }

    [Fact]
    public void ArgMaxFirstAndLastOfTies()
    {
        var x = OpTester.F([1, 3, 3, 0, 2, 2], 2, 3);
        var first = OpTester.Run("ArgMax", [A.Int("axis", 1)], OpTester.F([1, 3, 3, 0, 2, 2], 2, 3))[0];
        Assert.Equal([2, 1], first.Shape.ToArray());
        Assert.Equal([1L, 1L], first.ToArray<long>());
        var last = OpTester.Run("ArgMax", [A.Int("axis", 1), A.Int("select_last_index", 1), A.Int("keepdims", 0)], x)[0];
        Assert.Equal([2], last.Shape.ToArray());
        Assert.Equal([2L, 2L], last.ToArray<long>());
        var min = OpTester.Run("ArgMin", [A.Int("axis", 0), A.Int("keepdims", 0)], x)[0];
        Assert.Equal([1L, 1L, 1L], min.ToArray<long>());
    }

    [Fact]
    public void ArgMaxInt64ComparesExactly()
    {
        long big = 1L << 60;
        var x = Tensor.FromArray(new[] { big, big + 1, big }, 3);
        Assert.Equal([1L], OpTester.Run("ArgMax", [A.Int("keepdims", 1)], x)[0].ToArray<long>());
    }

    public static TheoryData<DataType> NumericTypes => new(DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16,
        DataType.Int8, DataType.UInt8, DataType.Int16, DataType.UInt16, DataType.Int32, DataType.UInt32, DataType.Int64, DataType.UInt64);

    /// <summary>Small non-negative integers are exact in every numeric type, so one expectation serves all.</summary>
    [Theory, MemberData(nameof(NumericTypes))]
    public void EveryNumericType(DataType dt)
    {
        var x = Cast(new double[] { 3, 1, 4, 1, 5, 9 }, dt, 2, 3);
        Assert.Equal([8.0, 15], Values(Run("ReduceSum", x, [1], keepDims: 0)));
        Assert.Equal([4.0, 9], Values(Run("ReduceMax", x, [1], keepDims: 0)));
        Assert.Equal([1.0, 1], Values(Run("ReduceMin", x, [1], keepDims: 0)));
        Assert.Equal([12.0, 45], Values(Run("ReduceProd", x, [1], keepDims: 0)));
        Assert.Equal([2L, 2L], OpTester.Run("ArgMax", [A.Int("axis", 1), A.Int("keepdims", 0)], x)[0].ToArray<long>());
        Assert.Equal([3.0, 4, 8, 1, 6, 15], Values(OpTester.Run("CumSum", null, x, Tensor.Scalar(1L))[0]));
        var top = OpTester.Run("TopK", [A.Int("axis", 1)], 2, 11, "", x, OpTester.L([2], 1));
        Assert.Equal([4.0, 3, 9, 5], Values(top[0]));
        Assert.Equal([2L, 0L, 2L, 1L], top[1].ToArray<long>());
    }

    [Theory]
    [InlineData(DataType.Float16)]
    [InlineData(DataType.BFloat16)]
    [InlineData(DataType.Double)]
    public void FloatingOnlyOpsInOtherFloatTypes(DataType dt)
    {
        var x = Cast(new double[] { 0, Math.Log(3), 1, 1 }, dt, 2, 2);
        var y = Values(OpTester.Run("Softmax", null, x)[0]);
        Assert.Equal([0.25, 0.75, 0.5, 0.5], y.Select(v => Math.Round(v, 2)));
        var ln = Values(OpTester.Run("LayerNormalization", [A.Float("epsilon", 0)], 1, 17, "", Cast([1, 3, 2, 4], dt, 2, 2), Cast([1, 1], dt, 2))[0]);
        Assert.Equal([-1.0, 1, -1, 1], ln);
    }

    private static Tensor Cast(double[] values, DataType dt, params int[] shape) => dt switch
    {
        DataType.Float => Tensor.FromArray(values.Select(v => (float)v).ToArray(), shape),
        DataType.Double => Tensor.FromArray(values, shape),
        DataType.Float16 => Tensor.FromArray(values.Select(v => (Half)v).ToArray(), shape),
        DataType.BFloat16 => Tensor.FromArray(values.Select(v => (BFloat16)v).ToArray(), shape),
        DataType.Int8 => Tensor.FromArray(values.Select(v => (sbyte)v).ToArray(), shape),
        DataType.UInt8 => Tensor.FromArray(values.Select(v => (byte)v).ToArray(), shape),
        DataType.Int16 => Tensor.FromArray(values.Select(v => (short)v).ToArray(), shape),
        DataType.UInt16 => Tensor.FromArray(values.Select(v => (ushort)v).ToArray(), shape),
        DataType.Int32 => Tensor.FromArray(values.Select(v => (int)v).ToArray(), shape),
        DataType.UInt32 => Tensor.FromArray(values.Select(v => (uint)v).ToArray(), shape),
        DataType.Int64 => Tensor.FromArray(values.Select(v => (long)v).ToArray(), shape),
        DataType.UInt64 => Tensor.FromArray(values.Select(v => (ulong)v).ToArray(), shape),
        _ => throw new ArgumentException($"no cast to {dt}"),
    };

    private static double[] Values(Tensor t) => Enumerable.Range(0, t.Length).Select(t.GetDouble).ToArray();
}
