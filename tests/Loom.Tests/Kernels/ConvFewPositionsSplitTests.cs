using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// The few-positions convolution on several threads (<see cref="ConvFewPositionsSplit"/>): its partition rules cover every
/// output channel and every packed element exactly once, and a node gives bit for bit the one-thread result at 2 and 3
/// threads (planes with stride 2 and with padding, pointwise; bias, residual, activation and pre-activation).
/// </summary>
public sealed unsafe class ConvFewPositionsSplitTests
{
    [Fact]
    public void ColumnPartsCoverEveryChannelOnceOnWholeTiles()
    {
        foreach (var (m, nr, parts) in new[] { (256, 32, 4), (96, 32, 3), (2048, 32, 4), (72, 16, 4), (13, 8, 2), (136, 32, 4), (40, 32, 2) })
        {
            var seen = new int[m];
            for (int p = 0; p < parts; p++)
            {
                var (j0, j1) = ConvFewPositionsSplit.Columns(m, nr, p, parts);
                Assert.True(j0 % nr == 0, $"part {p} of {m} columns starts inside a tile");
                for (int j = j0; j < j1; j++) seen[j]++;
            }
            Assert.All(seen, v => Assert.Equal(1, v));
        }
    }

    /// <summary>
    /// With Y starting on a 64-byte line (pooled tensors do), the parts' output channels [j0, j1) are whole lines of Y for
    /// every plane size, odd ones (13×13, 7×7) included, whenever a tile is at least 16 columns wide (AVX-512 and AVX2): no
    /// line is written by two cores.
    /// </summary>
    [Fact]
    public void ColumnPartsWriteWholeLinesOfY()
    {
        foreach (int nr in new[] { 16, 32 })
            foreach (int n in new[] { 196, 169, 49, 13, 1 })
                foreach (var (m, parts) in new[] { (256, 4), (1000, 4), (96, 3), (2048, 4), (40, 2) })
                    for (int p = 0; p < parts; p++)
                    {
                        var (j0, j1) = ConvFewPositionsSplit.Columns(m, nr, p, parts);
                        Assert.True((long)j0 * n * sizeof(float) % 64 == 0, $"part {p}: channel {j0} of {n}-position planes starts inside a line");
                        Assert.True(j1 == m || (long)j1 * n * sizeof(float) % 64 == 0, $"part {p}: channel {j1} of {n}-position planes ends inside a line");
                    }
    }

    [Theory]
    [InlineData(49, 261, 9, 4)]   // 3x3 taps, two KC blocks, channel ranges ending inside blocks
    [InlineData(196, 2304, 9, 4)]
    [InlineData(13, 600, 1, 3)]   // pointwise, a partial last panel
    [InlineData(56, 7, 7, 4)]     // fewer channels than parts
    public void PackingByChannelRangesEqualsPackingWhole(int n, int k, int taps, int parts)
    {
        var ks = GemmKernelSet.Best;
        int mr = ks.MR, paddedN = GemmCore.RoundUp(n, mr), channels = k / taps;
        var x = Random(n * k, n + k);
        var whole = new float[paddedN * k];
        var split = new float[paddedN * k];
        Array.Fill(split, float.NaN);
        fixed (float* px = x, pw = whole, ps = split)
        {
            var a = new GemmDenseA(px, n, transposed: true, 1);
            ConvFewPositionsSplit.PackTaps(a, pw, n, paddedN, k, mr, 0, k);
            // Every part packs its channels' taps; a part with no channel packs nothing.
            for (int p = 0; p < parts; p++)
            {
                var (c0, c1) = ConvFewPositionsSplit.Channels(channels, p, parts);
                ConvFewPositionsSplit.PackTaps(a, ps, n, paddedN, k, mr, c0 * taps, c1 * taps);
            }
            // The whole packing is checked against the operand itself, so a shared mistake in the layout cannot hide.
            for (int kb = 0; kb < k; kb += GemmCore.KC)
            {
                int kc = Math.Min(GemmCore.KC, k - kb);
                for (int i = 0; i < paddedN; i++)
                    for (int q = 0; q < kc; q++)
                        Assert.Equal(i < n ? x[(kb + q) * n + i] : 0f, whole[(long)kb * paddedN + (long)(i / mr * mr) * kc + q * mr + i % mr]);
            }
        }
        Assert.Equal(whole, split);
    }

    // x shape, w shape, strides, pads: 7x7 from stride-2 phase planes, 13x13 from padded planes, pointwise 7x7 (2 images).
    private static readonly (int[] X, int[] W, int[] S, int[] P)[] Cases =
    [
        ([1, 32, 14, 14], [96, 32, 3, 3], [2, 2], [1, 1, 1, 1]),
        ([1, 40, 13, 13], [72, 40, 3, 3], [1, 1], [1, 1, 1, 1]),
        ([2, 256, 7, 7], [136, 256, 1, 1], [1, 1], [0, 0, 0, 0]),
        ([1, 64, 14, 14], [200, 64, 1, 1], [2, 2], [0, 0, 0, 0]),
    ];

    [Fact]
    public void SeveralThreadsGiveTheOneThreadResultBitForBit()
    {
        int seed = 500;
        foreach (var c in Cases)
        {
            var x = Random(Size(c.X), ++seed);
            var w = Random(Size(c.W), seed + 1);
            var b = Random(c.W[0], seed + 2);
            int outSize = c.W[0] * c.X[0] * ((c.X[2] + c.P[0] + c.P[2] - c.W[2]) / c.S[0] + 1) * ((c.X[3] + c.P[1] + c.P[3] - c.W[3]) / c.S[1] + 1);
            var z = Random(outSize, seed + 3);
            var scale = Random(c.X[1], seed + 4);
            var shift = Random(c.X[1], seed + 5);
            var attrs = ConvAttrs(1, c.S, c.P, [1, 1]).Append(Attr.String("activation", "Relu"));
            var pre = attrs.Append(Attr.String("input_activation", "Relu"));
            var shape = ConvTests.NaiveConv(x, c.X, w, c.W, b, 1, c.S, c.P, [1, 1], out var yShape);
            foreach (var ks in GemmKernelSet.Supported)
            {
                using var forced = Force(ks.Name);
                float[] Run(int threads, bool preActivation) => (preActivation
                    ? RunOne("FusedConv", "com.loom", pre, threads, F(x, c.X), F(w, c.W), F(b, c.W[0]), F(z, yShape), F(scale, c.X[1]), F(shift, c.X[1]))
                    : RunOne("FusedConv", "com.loom", attrs, threads, F(x, c.X), F(w, c.W), F(b, c.W[0]), F(z, yShape))).ToArray<float>();
                foreach (bool preActivation in new[] { false, true })
                {
                    var one = Run(1, preActivation);
                    // The one-thread result is right (residual and Relu on the definition), so equality below is not vacuous.
                    if (!preActivation) AssertNear(shape.Select((v, i) => Math.Max(v + z[i], 0)).ToArray(), one, $"{ks.Name} case {seed} one thread");
                    foreach (int threads in new[] { 2, 3 })
                        Assert.True(one.AsSpan().SequenceEqual(Run(threads, preActivation)),
                            $"{ks.Name} case {seed}, pre-activation {preActivation}: {threads} threads differ from one");
                }
            }
        }
    }
}
