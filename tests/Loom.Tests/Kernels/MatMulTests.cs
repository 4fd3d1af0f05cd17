using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class MatMulTests
{
    private static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Fact]
    public void OneDimensionalOperandsDropTheirAddedAxis()
    {
        var a = F([1, 2, 3], 3);
        var m = F([1, 2, 3, 4, 5, 6], 3, 2);
        var vm = Run("MatMul", null, a, m)[0];
        Assert.Equal([2], vm.Shape.ToArray());
        AssertClose([22, 28], vm);
        var mv = Run("MatMul", null, F([1, 2, 3, 4, 5, 6], 2, 3), a)[0];
        Assert.Equal([2], mv.Shape.ToArray());
        AssertClose([14, 32], mv);
        var dot = Run("MatMul", null, a, a)[0];
        Assert.Equal(0, dot.Rank);
        AssertClose([14], dot);
    }

    [Fact]
    public void BatchDimsBroadcast()
    {
        // A [2,1,2,3] · B [3,3,2] → [2,3,2,2]; batch (i, j) uses A[i,0] and B[j].
        var a = Random(2 * 2 * 3, 1);
        var b = Random(3 * 3 * 2, 2);
        var y = Run("MatMul", null, F(a, 2, 1, 2, 3), F(b, 3, 3, 2))[0];
        Assert.Equal([2, 3, 2, 2], y.Shape.ToArray());
        var expected = new float[24];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int r = 0; r < 2; r++)
                    for (int c = 0; c < 2; c++)
                        for (int k = 0; k < 3; k++)
                            expected[((i * 3 + j) * 2 + r) * 2 + c] += a[(i * 2 + r) * 3 + k] * b[(j * 3 + k) * 2 + c];
        AssertClose(expected, y);
    }

    [Fact]
    public void IntegerMatMulWraps()
    {
        var y = Run("MatMul", null, Tensor.FromArray(new[] { int.MaxValue, 1 }, 1, 2), Tensor.FromArray(new[] { 2, 3 }, 2, 1))[0];
        Assert.Equal(unchecked(int.MaxValue * 2 + 3), y.AsSpan<int>()[0]);
        var l = Run("MatMul", null, Tensor.FromArray(new long[] { 1, 2, 3, 4 }, 2, 2), Tensor.FromArray(new long[] { 5, 6, 7, 8 }, 2, 2))[0];
        Assert.Equal([19L, 22, 43, 50], l.ToArray<long>());
    }

    [Fact]
    public void EmptyInnerDimensionGivesZeros()
    {
        var y = Run("MatMul", null, F([], 2, 0), F([], 0, 3))[0];
        Assert.Equal([2, 3], y.Shape.ToArray());
        Assert.All(y.ToArray<float>(), v => Assert.Equal(0, v));
    }

    [Fact]
    public void GemmWithEmptyDepthIsBetaC()
    {
        var y = Run("Gemm", [Attr.Float("beta", 2)], F([], 2, 0), F([], 0, 2), F([1, 2], 2))[0];
        AssertClose([2, 4, 2, 4], y);
        Assert.Equal([0, 2], Run("Gemm", null, F([], 0, 3), F(new float[6], 3, 2))[0].Shape.ToArray());
        Assert.Equal([3, 0, 4], Run("MatMul", null, F([], 3, 0, 5), F(new float[20], 5, 4))[0].Shape.ToArray());
    }

    [Fact]
    public void GemmAttributesAndBroadcastC()
    {
        // A stored transposed (2x3 holds op(A) 3x2), B transposed (2x2), C a row vector.
        var a = F([1, 2, 3, 4, 5, 6], 2, 3);
        var b = F([1, 2, 3, 4], 2, 2);
        var c = F([10, 20], 2);
        var y = Run("Gemm", [Attr.Int("transA", 1), Attr.Int("transB", 1), Attr.Float("alpha", 2), Attr.Float("beta", 0.5f)], a, b, c)[0];
        // op(A) = [[1,4],[2,5],[3,6]], op(B) = [[1,3],[2,4]]: op(A)·op(B) = [[9,19],[12,26],[15,33]].
        Assert.Equal([3, 2], y.Shape.ToArray());
        AssertClose([23, 48, 29, 62, 35, 76], y);
        var noC = Run("Gemm", null, F([1, 2], 1, 2), F([3, 4], 2, 1))[0];
        AssertClose([11], noC);
        var column = Run("Gemm", null, F([1, 2, 3, 4], 2, 2), F([1, 0, 0, 1], 2, 2), F([5, 6], 2, 1))[0];
        AssertClose([6, 7, 9, 10], column);
    }

    [Fact]
    public void GemmMatchesNaiveForOddSizesAndDtypes()
    {
        foreach (var (m, n, k) in new[] { (1, 17, 33), (7, 1, 5), (19, 23, 29), (65, 66, 67) })
        {
            var a = Random(m * k, m);
            var b = Random(n * k, n);
            var c = Random(n, k);
            var expected = new float[m * n];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[j * k + p];
                    expected[i * n + j] = (float)(0.5 * s + 2 * c[j]);
                }
            var attrs = new[] { Attr.Int("transB", 1), Attr.Float("alpha", 0.5f), Attr.Float("beta", 2) };
            AssertClose(expected, Run("Gemm", attrs, F(a, m, k), F(b, n, k), F(c, n))[0], 1e-4f);
            var yd = Run("Gemm", attrs, Tensor.FromArray(a.Select(v => (double)v).ToArray(), m, k),
                Tensor.FromArray(b.Select(v => (double)v).ToArray(), n, k), Tensor.FromArray(c.Select(v => (double)v).ToArray(), n))[0];
            AssertClose(expected, Tensor.FromArray(yd.ToArray<double>().Select(v => (float)v).ToArray(), m, n), 1e-4f);
            var yh = Run("Gemm", attrs, Tensor.FromArray(a.Select(v => (Half)v).ToArray(), m, k),
                Tensor.FromArray(b.Select(v => (Half)v).ToArray(), n, k), Tensor.FromArray(c.Select(v => (Half)v).ToArray(), n))[0];
            Assert.Equal(DataType.Float16, yh.DataType);
        }
    }

    [Fact]
    public void MatMulIntegerSubtractsZeroPointsPerRowAndColumn()
    {
        var a = Tensor.FromArray(new byte[] { 10, 20, 30, 40 }, 2, 2);
        var b = Tensor.FromArray(new sbyte[] { 1, -1, 2, 3 }, 2, 2);
        var azp = Tensor.FromArray(new byte[] { 10, 30 }, 2);
        var bzp = Tensor.FromArray(new sbyte[] { 1, -1 }, 2);
        // A − zp = [[0,10],[0,10]], B − zp = [[0,0],[1,4]].
        var y = Run("MatMulInteger", null, a, b, azp, bzp)[0];
        Assert.Equal([10, 40, 10, 40], y.ToArray<int>());
    }

    [Fact]
    public void QLinearMatMulSaturates()
    {
        var a = Tensor.FromArray(new byte[] { 200, 10 }, 1, 2);
        var b = Tensor.FromArray(new byte[] { 255, 0 }, 2, 1);
        var s = Tensor.FromArray(new[] { 1f }, 1);
        var zp = Tensor.FromArray(new byte[] { 0 }, 1);
        // 200·255 = 51000 saturates to 255; with y_scale 1000: round(51) = 51.
        Assert.Equal([(byte)255], Run("QLinearMatMul", null, a, s, zp, b, s, zp, s, zp)[0].ToArray<byte>());
        Assert.Equal([(byte)51], Run("QLinearMatMul", null, a, s, zp, b, s, zp, Tensor.FromArray(new[] { 1000f }, 1), zp)[0].ToArray<byte>());
    }
}
