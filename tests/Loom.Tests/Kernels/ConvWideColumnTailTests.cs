using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// <see cref="ConvWideColumnTail"/>: the last, partial column panel of implicit-GEMM convolutions computed with output channels as
/// lanes (AVX-512). Every tail length 1–31, output channels that make 16-row pairs, a lone whole 8-row tile and a partial one,
/// against the float64 definition, bit for bit against the 8×32 / 8×16 tile path it replaces, and at 2 and 3 threads bit for bit
/// the one-thread output, with every kernel set (the others keep the tile path: the same assertions hold).
/// </summary>
[Collection(ConvWide48Tests.Switches)]
public sealed class ConvWideColumnTailTests
{
    [Fact]
    public void EveryTailLengthMatchesTheDefinitionAndTheTilePath()
    {
        for (int tail = 1; tail < 32; tail++)
        {
            // 1×1 over more than 256 positions in one row: the implicit GEMM (fewer positions go to ConvFewPositions).
            int n = 9 * 32 + tail, m = tail % 3 == 0 ? 40 : tail % 3 == 1 ? 29 : 8;
            Check([1, 20, 1, n], [m, 20, 1, 1], [0, 0, 0, 0], "Relu", [], residual: tail % 4 == 0, seed: tail);
        }
    }

    public static TheoryData<string, float[]> Activations() => ConvFastPathTests.Activations();

    [Theory, MemberData(nameof(Activations))]
    public void EpiloguesMatchTheDefinitionAndTheTilePath(string activation, float[] parameters)
    {
        // SqueezeNet's 13×13 (169 = 5·32 + 9, the tail in one output row), a 3×3 with padding whose 19-column tail crosses a row
        // end and its dropped columns (wide rows of 13 for 11), and 17 columns (two calls: 16 + 1).
        Check([1, 24, 13, 13], [37, 24, 1, 1], [0, 0, 0, 0], activation, parameters, residual: true, seed: 1);
        Check([1, 24, 13, 13], [37, 24, 1, 1], [0, 0, 0, 0], activation, parameters, residual: false, seed: 2);
        Check([1, 6, 9, 11], [21, 6, 3, 3], [1, 1, 1, 1], activation, parameters, residual: true, seed: 3);
        Check([1, 6, 9, 11], [24, 6, 3, 3], [1, 1, 1, 1], activation, parameters, residual: false, seed: 4);
        Check([1, 12, 1, 305], [16, 12, 1, 1], [0, 0, 0, 0], activation, parameters, residual: false, seed: 5, bias: false);
    }

    private static void Check(int[] xs, int[] ws, int[] pads, string activation, float[] parameters, bool residual, int seed, bool bias = true)
    {
        var (expected, attrs, inputs) = FusedConvCase(xs, ws, 1, [1, 1], pads, activation, parameters, residual, seed, bias);
        foreach (var ks in GemmKernelSet.Supported)
        {
            using var forced = Force(ks.Name);
            string what = $"{ks.Name} {activation} x {string.Join('×', xs)} w {string.Join('×', ws)}";
            int before = ConvWideGemm.s_columnTailRuns;
            var one = Run(attrs, 1, inputs);
            // One thread runs on this one, whose count this is: the AVX-512 set takes the lane path, the others the tile path.
            Assert.Equal(ConvWideColumnTail.Supports(ks), ConvWideGemm.s_columnTailRuns != before);
            AssertNear(expected, one, what);
            foreach (int threads in new[] { 2, 3 }) Assert.Equal(one, Run(attrs, threads, inputs));
            ConvWideGemm.s_columnTail = false;
            try { Assert.Equal(one, Run(attrs, 1, inputs)); }
            finally { ConvWideGemm.s_columnTail = true; }
        }
    }

    private static float[] Run(IEnumerable<Attr> attrs, int threads, Tensor?[] inputs) =>
        RunOne("FusedConv", "com.loom", attrs, threads, inputs).ToArray<float>();
}
