using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// Float32 AveragePool on the AVX-512 depthwise kernels (weights of 1, then the divisor) against the float64 reference
/// (<see cref="PoolCore"/>), and bit for bit against the 8-wide kernel it replaces (same sums in the same order, same
/// divisors) and across 1 and 2 threads: Inception v2's 3×3 stride-1 pools, ShuffleNet's 3×3 stride-2 ones, at row
/// widths around the vector size, with pads, ceil_mode, count_include_pad and a 5×5 window.
/// </summary>
public sealed class PoolAverageWideTests
{
    // kernel, strides, pads (top, left, bottom, right), ceil_mode, count_include_pad
    private static readonly (int[] K, int[] S, int[] P, int Ceil, int IncludePad)[] Configs =
    [
        ([3, 3], [1, 1], [1, 1, 1, 1], 0, 0),
        ([3, 3], [1, 1], [1, 1, 1, 1], 0, 1),
        ([3, 3], [2, 2], [1, 1, 1, 1], 0, 0),
        ([3, 3], [2, 2], [1, 1, 1, 1], 1, 1),
        ([3, 3], [2, 2], [0, 0, 0, 0], 1, 0),
        ([5, 5], [1, 1], [2, 1, 2, 2], 0, 1),
        ([2, 3], [2, 2], [0, 1, 1, 0], 0, 0),
    ];

    [Fact]
    public void MatchesTheReferenceAndTheNarrowKernelBitForBit()
    {
        if (GemmKernelSet.Avx512 is null || GemmKernelSet.Avx2 is null) Assert.Skip("needs AVX-512 (the wide kernels) and AVX2 (the kernel compared with)");
        int seed = 0;
        foreach (var c in Configs)
            foreach (int w in new[] { 5, 7, 14, 16, 17, 28, 33 })
            {
                int[] shape = [1, 16, w + 1, w]; // enough planes for two parts at the larger widths
                var x = ConvFastPathTests.Random(ConvFastPathTests.Size(shape), ++seed);
                var attrs = new List<Attr>
                {
                    Attr.Ints("kernel_shape", c.K.Select(v => (long)v)), Attr.Ints("strides", c.S.Select(v => (long)v)),
                    Attr.Ints("pads", c.P.Select(v => (long)v)), Attr.Int("ceil_mode", c.Ceil), Attr.Int("count_include_pad", c.IncludePad),
                };
                string what = $"k {c.K[0]}x{c.K[1]} s {c.S[0]} width {w} ceil {c.Ceil} include {c.IncludePad}";
                float[] wide, wide2, narrow;
                using (ConvFastPathTests.Force(GemmKernelSet.Avx512.Name))
                {
                    wide = ConvFastPathTests.RunOne("AveragePool", "", attrs, 1, Tensor.FromArray(x, shape)).ToArray<float>();
                    wide2 = ConvFastPathTests.RunOne("AveragePool", "", attrs, 2, Tensor.FromArray(x, shape)).ToArray<float>();
                }
                using (ConvFastPathTests.Force(GemmKernelSet.Avx2.Name))
                    narrow = ConvFastPathTests.RunOne("AveragePool", "", attrs, 1, Tensor.FromArray(x, shape)).ToArray<float>();
                var reference = Loom.Tests.Support.OpTester.Run("AveragePool", attrs, 1, 12, "", Tensor.FromArray(x.Select(v => (double)v).ToArray(), shape))[0]
                    .ToArray<double>();
                ConvFastPathTests.AssertNear(reference, wide, what);
                Assert.True(narrow.SequenceEqual(wide), $"{what}: the 16-wide kernel differs from the 8-wide one");
                Assert.True(wide2.SequenceEqual(wide), $"{what}: two threads differ from one");
            }
    }
}
