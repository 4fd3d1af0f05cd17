using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// Deep strided convolutions whose phase planes outgrow L2 (over 1 MB), where the implicit GEMM prefetches B rows ahead
/// (<see cref="PrefetchTaps"/>): against the float64 definition, bit for bit without the prefetch, and at 2 and 3 threads bit
/// for bit the one-thread output, with every kernel set.
/// </summary>
public sealed class ConvWidePrefetchTapsTests
{
    // x shape, w shape, strides, pads: depth (216, 300) past the short-depth kernel, partial row tiles (21, 19 outputs), odd sizes.
    private static readonly (int[] X, int[] W, int[] S, int[] P)[] Cases =
    [
        ([1, 24, 120, 120], [21, 24, 3, 3], [2, 2], [1, 1, 1, 1]), // ResNet's 3×3 stride 2 in small: planes 24 × 4 × 61 × 61 (1.4 MB)
        ([1, 12, 151, 149], [19, 12, 5, 5], [2, 2], [2, 2, 2, 2]), // 5×5, odd input: planes 12 × 4 × 78 × 77 (1.15 MB)
    ];

    [Fact]
    public void LargePlanesMatchTheDefinitionAndTheProductWithoutPrefetch()
    {
        int seed = 0;
        foreach (var c in Cases)
        {
            seed++;
            var x = Random(Size(c.X), seed);
            var w = Random(Size(c.W), seed + 10);
            var b = Random(c.W[0], seed + 20);
            var expected = ConvTests.NaiveConv(x, c.X, w, c.W, b, 1, c.S, c.P, [1, 1], out _).Select(v => Math.Max(v, 0)).ToArray();
            var attrs = ConvAttrs(1, c.S, c.P, [1, 1]).Append(Attr.String("activation", "Relu")).ToArray();
            foreach (var ks in GemmKernelSet.Supported)
            {
                using var forced = Force(ks.Name);
                var one = Run(attrs, 1, x, c, w, b);
                AssertNear(expected, one, $"{ks.Name} case {seed}");
                foreach (int threads in new[] { 2, 3 }) Assert.Equal(one, Run(attrs, threads, x, c, w, b));
                ConvWideGemm.s_prefetchTaps = false;
                try { Assert.Equal(one, Run(attrs, 1, x, c, w, b)); }
                finally { ConvWideGemm.s_prefetchTaps = true; }
            }
        }
    }

    private static float[] Run(Attr[] attrs, int threads, float[] x, (int[] X, int[] W, int[] S, int[] P) c, float[] w, float[] b) =>
        RunOne("FusedConv", "com.loom", attrs, threads, F(x, c.X), F(w, c.W), F(b, c.W[0])).ToArray<float>();
}
