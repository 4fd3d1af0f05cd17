using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// Pointwise layers on the 8×48 tile (<see cref="GemmOffsetKernels48"/>, AVX-512): every last-panel width 1–47 (the column tail
/// lanes), ResNet-50's plane sizes, a stride-2 layer and one of two groups, output channels in whole and partial 8-row tiles, against the float64
/// definition, bit for bit against the 8×32 tile, and at 2 and 3 threads bit for bit the one-thread output, with every kernel set
/// (only the AVX-512 set takes the 8×48 tile; the others must give the same answers with it switched off).
/// </summary>
[Collection(ConvWide48Tests.Switches)]
public sealed class ConvWide48Tests
{
    /// <summary>The collection of the classes that flip <see cref="ConvWideGemm"/>'s test switches, which steer each other's paths.</summary>
    public const string Switches = "conv wide switches";

    [Fact]
    public void EveryLastPanelWidthMatchesTheDefinitionAndThe8x32Tile()
    {
        for (int tail = 1; tail < 48; tail++)
        {
            int n = 3 * 48 + tail, m = tail % 3 == 0 ? 40 : tail % 3 == 1 ? 29 : 8;
            Check([1, 20, 1, n], [m, 20, 1, 1], [1, 1], "Relu", [], residual: tail % 4 == 0, seed: tail);
        }
    }

    public static TheoryData<string, float[]> Activations() => ConvFastPathTests.Activations();

    [Theory, MemberData(nameof(Activations))]
    public void ResNetPlanesMatchTheDefinitionAndThe8x32Tile(string activation, float[] parameters)
    {
        // 14×14 (196 = 4·48 + 4, B rows misaligned), 28×28 (784 = 16·48 + 16), 56×56 → 28×28 at stride 2, and 13×13 (169 = 3·48 + 25).
        Check([1, 24, 14, 14], [40, 24, 1, 1], [1, 1], activation, parameters, residual: true, seed: 1);
        Check([1, 16, 28, 28], [24, 16, 1, 1], [1, 1], activation, parameters, residual: false, seed: 2);
        Check([1, 12, 56, 56], [16, 12, 1, 1], [2, 2], activation, parameters, residual: false, seed: 3);
        Check([1, 24, 13, 13], [37, 24, 1, 1], [1, 1], activation, parameters, residual: false, seed: 4, bias: false);
        // Groups deeper than ConvPointwiseNarrow takes read the image in place too (ShuffleNet's): each group a product of its own.
        Check([1, 40, 14, 14], [48, 20, 1, 1], [1, 1], activation, parameters, residual: true, seed: 5, group: 2);
    }

    private static void Check(int[] xs, int[] ws, int[] strides, string activation, float[] parameters, bool residual, int seed, bool bias = true,
        int group = 1)
    {
        var (expected, attrs, inputs) = FusedConvCase(xs, ws, group, strides, [0, 0, 0, 0], activation, parameters, residual, seed, bias);
        foreach (var ks in GemmKernelSet.Supported)
        {
            using var forced = Force(ks.Name);
            string what = $"{ks.Name} {activation} x {string.Join('×', xs)} w {string.Join('×', ws)} stride {strides[0]} group {group}";
            int before = ConvWideGemm.s_wide48Runs;
            var one = Run(attrs, 1, inputs);
            // Sigmoid and Tanh stay on the 8×32 tile (applied after the store; see ConvWideGemm.Wide48).
            bool wide = ks.Is512 && activation is not ("Sigmoid" or "Tanh");
            Assert.True(wide == (ConvWideGemm.s_wide48Runs != before), $"{what}: 8×48 tile taken {ConvWideGemm.s_wide48Runs - before} times");
            AssertNear(expected, one, what);
            foreach (int threads in new[] { 2, 3 }) Assert.Equal(one, Run(attrs, threads, inputs));
            ConvWideGemm.s_wide48 = false;
            try { Assert.Equal(one, Run(attrs, 1, inputs)); }
            finally { ConvWideGemm.s_wide48 = true; }
        }
    }

    private static float[] Run(IEnumerable<Attr> attrs, int threads, Tensor?[] inputs) =>
        RunOne("FusedConv", "com.loom", attrs, threads, inputs).ToArray<float>();
}
