using Loom.Tests.Support;

namespace Loom.Tests.Kernels;

/// <summary>
/// Float32 GlobalAveragePool (eight-lane vector sums per plane): each plane's mean against the float64 mean of its
/// elements, and bit for bit the mean of the same plane pooled alone (a plane's result must not depend on its
/// neighbours), for plane counts 1..9 and plane sizes with every tail length.
/// </summary>
public sealed class PoolGlobalAverageTests
{
    [Fact]
    public void EachPlaneIsItsMeanWhateverItsNeighbours()
    {
        foreach (int channels in new[] { 1, 2, 3, 4, 5, 7, 8, 9 })
            foreach (var (h, w) in new[] { (1, 1), (1, 7), (3, 3), (2, 8), (3, 5), (4, 5), (13, 13), (7, 7) })
            {
                int size = h * w;
                var x = ConvFastPathTests.Random(channels * size, channels * 100 + size);
                var y = OpTester.Run("GlobalAveragePool", [], Tensor.FromArray(x, 1, channels, h, w))[0];
                Assert.Equal([1, channels, 1, 1], y.Shape.ToArray());
                var means = y.ToArray<float>();
                for (int c = 0; c < channels; c++)
                {
                    var plane = x.AsSpan(c * size, size).ToArray();
                    double exact = plane.Sum(v => (double)v) / size;
                    Assert.True(Math.Abs(means[c] - exact) <= 1e-6 * (1 + Math.Abs(exact)), $"{channels}x{h}x{w} channel {c}: {means[c]} vs {exact}");
                    float alone = OpTester.Run("GlobalAveragePool", [], Tensor.FromArray(plane, 1, 1, h, w))[0].ToArray<float>()[0];
                    Assert.True(alone.Equals(means[c]), $"{channels}x{h}x{w} channel {c}: {means[c]} beside others, {alone} alone");
                }
            }
    }
}
