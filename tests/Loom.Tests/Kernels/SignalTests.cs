using Loom.Tests.Support;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public class SignalTests
{
    private static Tensor Dft(Tensor x, long? length = null, long? axis = null, int opset = 20, params Attr[] attrs) =>
        OpTester.Run("DFT", attrs, 1, opset, "", x, length is { } n ? Tensor.Scalar(n) : null, axis is { } a ? Tensor.Scalar(a) : null)[0];

    private static readonly Tensor Ramp4 = OpTester.F([1, 2, 3, 4], 1, 4, 1);

    [Fact]
    public void Dft_of_real_signal()
    {
        // X[k] = sum x[n] e^{-2 pi i k n / 4}: 10, -2+2i, -2, -2-2i.
        var y = Dft(Ramp4);
        Assert.Equal([1, 4, 2], y.Shape.ToArray());
        OpTester.AssertClose([10, 0, -2, 2, -2, 0, -2, -2], y);
    }

    [Fact]
    public void Dft_onesided_keeps_half_the_bins()
    {
        var y = Dft(Ramp4, attrs: Attr.Int("onesided", 1));
        Assert.Equal([1, 3, 2], y.Shape.ToArray());
        OpTester.AssertClose([10, 0, -2, 2, -2, 0], y);
    }

    [Fact]
    public void Dft_zero_pads_to_dft_length()
    {
        // [1, 2, 3, 0]: 6, -2-2i, 2, -2+2i.
        var y = Dft(OpTester.F([1, 2, 3], 1, 3, 1), length: 4);
        OpTester.AssertClose([6, 0, -2, -2, 2, 0, -2, 2], y);
    }

    [Fact]
    public void Inverse_dft_undoes_dft()
    {
        var y = Dft(OpTester.F([10, 0, -2, 2, -2, 0, -2, -2], 1, 4, 2), attrs: Attr.Int("inverse", 1));
        OpTester.AssertClose([1, 0, 2, 0, 3, 0, 4, 0], y);
    }

    [Fact]
    public void Inverse_onesided_is_irfft()
    {
        // Default length 2 * (3 - 1) = 4; the missing bin is the conjugate of bin 1.
        var y = Dft(OpTester.F([10, 0, -2, 2, -2, 0], 1, 3, 2), attrs: [Attr.Int("inverse", 1), Attr.Int("onesided", 1)]);
        Assert.Equal([1, 4, 1], y.Shape.ToArray());
        OpTester.AssertClose([1, 2, 3, 4], y);
    }

    [Fact]
    public void Opset_17_reads_axis_attribute()
    {
        // Transform along axis 0 of [2, 2, 1]: sums and differences of the rows.
        var y = Dft(OpTester.F([1, 2, 3, 5], 2, 2, 1), opset: 17, attrs: Attr.Int("axis", 0));
        OpTester.AssertClose([4, 0, 7, 0, -2, 0, -3, 0], y);
    }

    [Theory]
    [InlineData(12)]   // direct sum
    [InlineData(64)]   // radix 2
    [InlineData(100)]  // Bluestein
    [InlineData(257)]  // Bluestein, prime
    public void Fft_lengths_match_the_direct_sum(int n)
    {
        var rng = new Random(n);
        var x = Enumerable.Range(0, 2 * n).Select(_ => (double)rng.NextSingle() - 0.5).ToArray();
        var y = Dft(Tensor.FromArray(x, 1, n, 2)).ToArray<double>();
        for (int k = 0; k < n; k++)
        {
            double re = 0, im = 0;
            for (int j = 0; j < n; j++)
            {
                double angle = -2 * Math.PI * ((long)j * k % n) / n;
                re += x[2 * j] * Math.Cos(angle) - x[2 * j + 1] * Math.Sin(angle);
                im += x[2 * j] * Math.Sin(angle) + x[2 * j + 1] * Math.Cos(angle);
            }
            Assert.Equal(re, y[2 * k], 9);
            Assert.Equal(im, y[2 * k + 1], 9);
        }
    }

    [Fact]
    public void Stft_frames_and_windows()
    {
        var signal = OpTester.F([1, 2, 3, 4, 5, 6], 1, 6, 1);
        var plain = OpTester.Run("STFT", null, signal, Tensor.Scalar(2L), null, Tensor.Scalar(4L))[0];
        Assert.Equal([1, 2, 3, 2], plain.Shape.ToArray());
        OpTester.AssertClose([10, 0, -2, 2, -2, 0, 18, 0, -2, 2, -2, 0], plain);
        // Window [0, 1, 1, 0] keeps x[1], x[2] of each frame: frame 0 is [0, 2, 3, 0] -> 5, -3-2i, 1.
        var windowed = OpTester.Run("STFT", null, signal, Tensor.Scalar(2L), OpTester.F([0, 1, 1, 0], 4))[0];
        OpTester.AssertClose([5, 0, -3, -2, 1, 0, 9, 0, -5, -4, 1, 0], windowed);
    }

    private static Tensor Window(string op, long size, bool periodic, DataType dt = DataType.Float) =>
        OpTester.Run(op, [Attr.Int("periodic", periodic ? 1 : 0), Attr.Int("output_datatype", (long)dt)], Tensor.Scalar(size))[0];

    [Fact]
    public void Windows_periodic_and_symmetric()
    {
        OpTester.AssertClose([0, 0.5f, 1, 0.5f], Window("HannWindow", 4, true));
        OpTester.AssertClose([0, 0.5f, 1, 0.5f, 0], Window("HannWindow", 5, false));
        OpTester.AssertClose([4f / 46, 25f / 46, 1, 25f / 46], Window("HammingWindow", 4, true));
        var blackman = Window("BlackmanWindow", 4, true, DataType.Double);
        Assert.Equal(DataType.Double, blackman.DataType);
        Assert.Equal([0, 0.34, 1, 0.34], blackman.ToArray<double>().Select(v => Math.Round(v, 12)));
    }

    [Fact]
    public void MelWeightMatrix_triangles_peak_at_one()
    {
        // Mel edges 0..4 Hz at 8 samples/s fall on DFT bins 0, 1, 2, 3.
        var y = OpTester.Run("MelWeightMatrix", null, Tensor.Scalar(2L), Tensor.Scalar(8L), Tensor.Scalar(8L), Tensor.Scalar(0f), Tensor.Scalar(4f))[0];
        Assert.Equal([5, 2], y.Shape.ToArray());
        OpTester.AssertClose([0, 0, 1, 0, 0, 1, 0, 0, 0, 0], y);
    }

    [Fact]
    public void Empty_batch_dft()
    {
        var y = Dft(Tensor.FromArray(Array.Empty<float>(), 0, 5, 1), attrs: Attr.Int("onesided", 1));
        Assert.Equal([0, 3, 2], y.Shape.ToArray());
    }
}
