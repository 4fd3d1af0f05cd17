using Loom.Kernels.Common;

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
    public void LargePlanesMatchTheDefinitionAndTheProductWithoutPrefetch() =>
        ConvWideSplitTileTests.MatchDefinitionThreadsAndSwitch(Cases, on => ConvWideGemm.s_prefetchTaps = on);
}
