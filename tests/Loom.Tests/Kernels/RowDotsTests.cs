using Loom.Kernels.Common;

namespace Loom.Tests.Kernels;

/// <summary>
/// <see cref="RowDots"/> (batch-1 fully connected layers with B as stored) against a float64 dot product for every
/// depth 1–70 (every tail of 8- and 16-lane vectors) and row counts around the group of eight, accumulating or not;
/// and the same bits however the rows are split between threads. Rerun by <see cref="IsaMatrixTests"/> for the
/// 256-bit path and the fallback.
/// </summary>
public sealed unsafe class RowDotsTests
{
    private static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchesTheDefinitionAtEveryDepth(bool accumulate)
    {
        foreach (int n in new[] { 1, 7, 8, 9, 17 })
            for (int k = 1; k <= 70; k++)
            {
                int ldb = k + 3; // rows not contiguous with each other
                var a = Random(k, k);
                var b = Random(n * ldb, 1000 + k);
                var c = Random(n, 2000 + k);
                var c0 = (float[])c.Clone();
                fixed (float* pa = a, pb = b, pc = c) RowDots.Run(0, n, k, pa, pb, ldb, pc, accumulate);
                for (int j = 0; j < n; j++)
                {
                    double expected = accumulate ? c0[j] : 0;
                    for (int i = 0; i < k; i++) expected += (double)a[i] * b[j * ldb + i];
                    Assert.True(Math.Abs(c[j] - expected) <= 1e-5 * k + 1e-6, $"n={n} k={k} row {j}: {c[j]} vs {expected}");
                }
            }
    }

    [Fact]
    public void AnySplitOfTheRowsGivesTheSameBits()
    {
        const int n = 29, k = 67;
        var a = Random(k, 1);
        var b = Random(n * k, 2);
        var whole = new float[n];
        fixed (float* pa = a, pb = b, pc = whole) RowDots.Run(0, n, k, pa, pb, k, pc, false);
        for (int split = 1; split < n; split++)
        {
            var parts = new float[n];
            fixed (float* pa = a, pb = b, pc = parts)
            {
                RowDots.Run(split, n, k, pa, pb, k, pc, false);
                RowDots.Run(0, split, k, pa, pb, k, pc, false);
            }
            Assert.Equal(whole, parts);
        }
    }
}
