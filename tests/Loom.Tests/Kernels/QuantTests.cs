using Loom.Kernels.Common;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class QuantTests
{
    private static Tensor Scalar(float v) => Tensor.FromArray(new[] { v }, Array.Empty<int>());

    [Fact]
    public void QuantizeRoundsHalfToEvenAndSaturates()
    {
        var x = F([0.5f, 1.5f, 2.5f, -0.5f, 300, -3], 6);
        Assert.Equal([(byte)0, 2, 2, 0, 255, 0], Run("QuantizeLinear", null, x, Scalar(1))[0].ToArray<byte>());
        var y = Run("QuantizeLinear", null, x, Scalar(1), Tensor.FromArray(new sbyte[] { -1 }, Array.Empty<int>()))[0];
        Assert.Equal([(sbyte)-1, 1, 1, -1, 127, -4], y.ToArray<sbyte>());
    }

    [Fact]
    public void QuantizePerAxisAndBlocked()
    {
        var x = F([2, 4, 6, 8, 10, 12], 2, 3);
        var perAxis = Run("QuantizeLinear", [Attr.Int("axis", 0)], x, F([2, 4], 2), Tensor.FromArray(new byte[] { 0, 10 }, 2))[0];
        Assert.Equal([(byte)1, 2, 3, 12, 12, 13], perAxis.ToArray<byte>()); // 10/4 = 2.5 rounds to even
        // Blocks of 2 along axis 1: scales [[1, 2], [2, 4]] cover columns {0,1} and {2}.
        var blocked = Run("QuantizeLinear", [Attr.Int("axis", 1), Attr.Int("block_size", 2)], x, F([1, 2, 2, 4], 2, 2))[0];
        Assert.Equal([(byte)2, 4, 3, 4, 5, 3], blocked.ToArray<byte>());
        var back = Run("DequantizeLinear", [Attr.Int("axis", 1), Attr.Int("block_size", 2)], blocked, F([1, 2, 2, 4], 2, 2))[0];
        AssertClose([2, 4, 6, 8, 10, 12], back);
    }

    [Fact]
    public void Float8ConversionsRoundSaturateAndDecode()
    {
        var t = DataType.Float8E4M3FN;
        Assert.Equal(0x38, QuantFloat8.FromFloat(1f, t, true));
        Assert.Equal(0x38, QuantFloat8.FromFloat(1.0625f, t, true)); // tie between 1 and 1.125: even mantissa
        Assert.Equal(0x3A, QuantFloat8.FromFloat(1.1875f, t, true)); // tie between 1.125 and 1.25
        Assert.Equal(0x01, QuantFloat8.FromFloat(0.001953125f, t, true)); // smallest subnormal
        Assert.Equal(0x7E, QuantFloat8.FromFloat(1000f, t, true));
        Assert.Equal(0x7F, QuantFloat8.FromFloat(1000f, t, false));
        Assert.Equal(0xFE, QuantFloat8.FromFloat(float.NegativeInfinity, t, true));
        Assert.Equal(0x80, QuantFloat8.FromFloat(-0f, t, true));
        Assert.Equal(0x00, QuantFloat8.FromFloat(-0f, DataType.Float8E4M3FNUZ, true));
        Assert.Equal(0x80, QuantFloat8.FromFloat(float.NaN, DataType.Float8E5M2FNUZ, true));
        Assert.Equal(0x7C, QuantFloat8.FromFloat(70000f, DataType.Float8E5M2, false));
        Assert.Equal(0x7B, QuantFloat8.FromFloat(70000f, DataType.Float8E5M2, true));
        Assert.Equal(448f, QuantFloat8.ToFloat(0x7E, t));
        Assert.True(float.IsNaN(QuantFloat8.ToFloat(0xFF, t)));
        Assert.Equal(240f, QuantFloat8.ToFloat(0x7F, DataType.Float8E4M3FNUZ));
        Assert.Equal(57344f, QuantFloat8.ToFloat(0x7B, DataType.Float8E5M2));
        Assert.Equal(6f, QuantFloat8.ToFloat(0x7, DataType.Float4E2M1));
        Assert.Equal(0x3, QuantFloat8.FromFloat(1.4f, DataType.Float4E2M1, true));
        Assert.Equal(0xF, QuantFloat8.FromFloat(-100f, DataType.Float4E2M1, false));
        for (int code = 0; code < 256; code++)
        {
            float v = QuantFloat8.ToFloat((byte)code, t);
            if (!float.IsNaN(v)) Assert.Equal(code, QuantFloat8.FromFloat(v, t, true));
        }
    }

    [Fact]
    public void DequantizeInt4AndFloat8()
    {
        var x = Tensor.FromArray(new sbyte[] { -8, 0, 7 }, [3], DataType.Int4);
        var zp = Tensor.FromArray(new sbyte[] { -1 }, [1], DataType.Int4);
        AssertClose([-14, 2, 16], Run("DequantizeLinear", null, x, F([2], 1), zp)[0]);
        var f8 = Tensor.FromArray(new byte[] { 0x38, 0x7E }, [2], DataType.Float8E4M3FN);
        AssertClose([0.5f, 224], Run("DequantizeLinear", null, f8, Scalar(0.5f))[0]);
    }

    [Fact]
    public void DynamicQuantizeLinearChoosesRangeWithZero()
    {
        var r = Run("DynamicQuantizeLinear", null, 3, 21, "", F([0, 2, -3, -2.5f, 1.34f, 0.5f], 6));
        Assert.Equal([(byte)153, 255, 0, 26, 221, 179], r[0].ToArray<byte>());
        Assert.Equal(5f / 255, r[1].AsSpan<float>()[0], 6);
        Assert.Equal((byte)153, r[2].AsSpan<byte>()[0]);
    }

    [Fact]
    public void IntegerConvolutionsCentreAndRequantize()
    {
        var x = Tensor.FromArray(new byte[] { 2, 3, 4, 5 }, 1, 1, 2, 2);
        var w = Tensor.FromArray(new byte[] { 2 }, 1, 1, 1, 1);
        var xzp = Tensor.FromArray(new byte[] { 1 }, Array.Empty<int>());
        Assert.Equal([2, 4, 6, 8], Run("ConvInteger", null, x, w, xzp)[0].ToArray<int>());
        // QLinearConv: acc (x−1)·2 + bias 1 = [3,5,7,9], times 0.5·1/2 = 0.25 → round-half-even [1,1,2,2] + 10.
        var y = Run("QLinearConv", null, x, Scalar(0.5f), xzp, w, Scalar(1), Tensor.FromArray(new byte[] { 0 }, Array.Empty<int>()),
            Scalar(2), Tensor.FromArray(new byte[] { 10 }, Array.Empty<int>()), Tensor.FromArray(new[] { 1 }, 1))[0];
        Assert.Equal([(byte)11, 11, 12, 12], y.ToArray<byte>());
    }

    [Fact]
    public void IntegerProductsStayExactForDeepSums()
    {
        // Sums reach ~10^8, beyond float32's exact range: the depth must be chunked.
        var r = new Random(5);
        int m = 3, k = 3000, n = 5;
        var a = Enumerable.Range(0, m * k).Select(_ => (byte)r.Next(200, 256)).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (sbyte)r.Next(-128, -100)).ToArray();
        var y = Run("MatMulInteger", null, Tensor.FromArray(a, m, k), Tensor.FromArray(b, k, n),
            Tensor.FromArray(new byte[] { 3 }, Array.Empty<int>()), Tensor.FromArray(new sbyte[] { 1 }, Array.Empty<int>()))[0].ToArray<int>();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                long sum = 0;
                for (int p = 0; p < k; p++) sum += (a[i * k + p] - 3) * (b[p * n + j] - 1);
                Assert.Equal(sum, y[i * n + j]);
            }
        // ConvInteger: 600 channels x 3x3 = depth 5400, 4 output channels (the GEMM path).
        int c = 600, h = 4;
        var x = Enumerable.Range(0, c * h * h).Select(_ => (byte)r.Next(240, 256)).ToArray();
        var w = Enumerable.Range(0, 4 * c * 9).Select(_ => (byte)r.Next(240, 256)).ToArray();
        var conv = Run("ConvInteger", [Attr.Ints("pads", [1, 1, 1, 1])], Tensor.FromArray(x, 1, c, h, h), Tensor.FromArray(w, 4, c, 3, 3))[0].ToArray<int>();
        for (int o = 0; o < 4; o++)
            for (int oy = 0; oy < h; oy++)
                for (int ox = 0; ox < h; ox++)
                {
                    long sum = 0;
                    for (int ch = 0; ch < c; ch++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                            {
                                int iy = oy + ky - 1, ix = ox + kx - 1;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < h) sum += x[(ch * h + iy) * h + ix] * w[((o * c + ch) * 3 + ky) * 3 + kx];
                            }
                    Assert.Equal(sum, conv[(o * h + oy) * h + ox]);
                }
    }
}
