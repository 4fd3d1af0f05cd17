using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// <see cref="ConvWideSplitTile"/>: implicit-GEMM convolutions whose wide rows are wider than the output rows, so tiles run from the
/// end of one output row into the next (or start in the dropped columns). Against the float64 definition, bit for bit against the
/// scalar scatter they replace, and at 2 and 3 threads bit for bit the one-thread output, with every kernel set.
/// </summary>
public sealed class ConvWideSplitTileTests
{
    // x shape, w shape, strides, pads: wide rows 1, 2 and 3 columns wider than the output; rows shorter than a tile (three rows a tile).
    private static readonly (int[] X, int[] W, int[] S, int[] P)[] Cases =
    [
        ([1, 3, 47, 47], [24, 3, 3, 3], [2, 2], [0, 0, 0, 0]),   // a stem: 23 outputs in rows of 24
        ([1, 3, 75, 77], [16, 3, 3, 3], [2, 2], [0, 0, 0, 0]),   // 37×38 in rows of 39
        ([1, 5, 37, 40], [20, 5, 3, 3], [1, 1], [1, 1, 1, 1]),   // stride 1, rows of 42 for 40 (too few channels for Winograd)
        ([1, 3, 45, 45], [16, 3, 7, 7], [2, 2], [3, 3, 3, 3]),   // a 7×7 stem: rows of 26 for 23, tiles starting in the dropped columns
        ([2, 4, 20, 20], [13, 4, 3, 3], [2, 2], [0, 0, 0, 0]),   // 9×9 in rows of 10, a partial row tile, two images
        ([1, 3, 111, 111], [32, 3, 3, 3], [2, 2], [0, 0, 0, 0]), // 55×55: enough work for column blocks on the threads
    ];

    [Fact]
    public void TilesAcrossRowEndsMatchTheDefinitionAndTheScalarScatter() =>
        MatchDefinitionThreadsAndSwitch(Cases, on => ConvWideGemm.s_splitStore = on);

    /// <summary>
    /// Each case with a fused Relu, every kernel set: near the float64 definition, the same bits at 2 and 3 threads, and the same
    /// bits with the path under test switched off (<paramref name="setSwitch"/>(false), restored to true after).
    /// </summary>
    internal static void MatchDefinitionThreadsAndSwitch((int[] X, int[] W, int[] S, int[] P)[] cases, Action<bool> setSwitch)
    {
        int seed = 0;
        foreach (var c in cases)
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
                setSwitch(false);
                try { Assert.Equal(one, Run(attrs, 1, x, c, w, b)); }
                finally { setSwitch(true); }
            }
        }
    }

    private static float[] Run(Attr[] attrs, int threads, float[] x, (int[] X, int[] W, int[] S, int[] P) c, float[] w, float[] b) =>
        RunOne("FusedConv", "com.loom", attrs, threads, F(x, c.X), F(w, c.W), F(b, c.W[0])).ToArray<float>();
}
