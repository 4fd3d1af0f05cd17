using System.Runtime.Intrinsics;
using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// <see cref="ConvStem512"/>: few-channel stride-2 convolutions with enough taps (ResNet-style stems), against the float64
/// definition with bias, residual and Relu or Sigmoid, every output-width tail from 16 to 80 columns, kernels 3×3 to 11×11,
/// pads, two images; and at 2 and 3 threads bit for bit the one-thread output.
/// </summary>
public sealed class ConvStem512Tests
{
    // x shape, w shape, pads.
    private static readonly (int[] X, int[] W, int[] P)[] Cases =
    [
        ([1, 3, 224, 224], [64, 3, 7, 7], [3, 3, 3, 3]), // ResNet-50 / Inception v1 / DenseNet-121 stem
        ([2, 3, 37, 45], [8, 3, 7, 7], [3, 3, 3, 3]),    // two images, 23 columns
        ([1, 4, 20, 70], [12, 4, 4, 4], [1, 2, 0, 1]),   // even kernel, uneven pads
        ([1, 1, 30, 80], [4, 1, 8, 8], [0, 0, 0, 0]),    // one channel, 64 taps
        ([1, 1, 41, 200], [8, 1, 11, 11], [5, 5, 5, 5]), // 11×11, 100 columns
        ([1, 2, 17, 63], [16, 2, 7, 5], [2, 1, 3, 2]),   // rectangular kernel
        ([1, 3, 224, 224], [64, 3, 3, 3], [0, 0, 0, 0]), // SqueezeNet 1.1 stem (27 taps, 111 rows: bands of 16 and a 15)
        ([1, 3, 67, 70], [24, 3, 3, 3], [1, 1, 1, 1]),   // ShuffleNet-like, 34 rows
    ];

    [Fact]
    public void StemsMatchTheDefinitionAtEveryThreadCount()
    {
        int seed = 0;
        var all = Cases.ToList();
        for (int ow = 16; ow <= 80; ow++) all.Add(([1, 3, 9, 2 * ow - 1], [8, 3, 5, 5], [2, 2, 2, 2])); // every tail: OW = ow
        foreach (var c in all)
        {
            seed++;
            var x = Random(Size(c.X), seed);
            var w = Random(Size(c.W), seed + 10);
            var b = Random(c.W[0], seed + 20);
            var conv = ConvTests.NaiveConv(x, c.X, w, c.W, b, 1, [2, 2], c.P, [1, 1], out var shape);
            var z = Random(Size(shape), seed + 30);
            var relu = conv.Select((v, i) => Math.Max(v + z[i], 0)).ToArray();
            var sigmoid = conv.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();
            int before = ConvStem512.s_runs;
            var reluOne = Run(c, "Relu", 1, x, w, b, z, shape);
            AssertNear(relu, reluOne, $"case {seed} relu");
            AssertNear(sigmoid, Run(c, "Sigmoid", 1, x, w, b, null, shape), $"case {seed} sigmoid");
            var plain = ConvTests.NaiveConv(x, c.X, w, c.W, null, 1, [2, 2], c.P, [1, 1], out _);
            var plainOne = Run(c, null, 1, x, w, null, null, shape);
            AssertNear(plain, plainOne, $"case {seed} plain");
            if (Vector512.IsHardwareAccelerated) Assert.Equal(before + 3, ConvStem512.s_runs);
            foreach (int threads in new[] { 2, 3 })
            {
                Assert.Equal(reluOne, Run(c, "Relu", threads, x, w, b, z, shape));
                Assert.Equal(plainOne, Run(c, null, threads, x, w, null, null, shape));
            }
        }
    }

    [Fact]
    public void ShortStemsKeepTheImplicitGemm()
    {
        // Under 27 taps (here 2×3×3) the implicit GEMM keeps the stem: that range is unmeasured. Stride 1 is not taken either.
        int before = ConvStem512.s_runs;
        (int[] X, int[] W, int[] P) shortStem = ([1, 2, 47, 47], [16, 2, 3, 3], [0, 0, 0, 0]);
        var x = Random(Size(shortStem.X), 1);
        var w = Random(Size(shortStem.W), 2);
        var expected = ConvTests.NaiveConv(x, shortStem.X, w, shortStem.W, null, 1, [2, 2], shortStem.P, [1, 1], out var shape);
        AssertNear(expected, Run(shortStem, null, 1, x, w, null, null, shape), "2×3×3");
        Assert.Equal(before, ConvStem512.s_runs);
    }

    private static float[] Run((int[] X, int[] W, int[] P) c, string? act, int threads, float[] x, float[] w, float[]? b, float[]? z, int[] shape)
    {
        var attrs = ConvAttrs(1, [2, 2], c.P, [1, 1]);
        if (act is not null) attrs = attrs.Append(Attr.String("activation", act));
        var bias = b is null ? null : F(b, c.W[0]);
        Tensor?[] inputs = z is null ? [F(x, c.X), F(w, c.W), bias] : [F(x, c.X), F(w, c.W), bias, F(z, shape)];
        return RunOne("FusedConv", "com.loom", attrs, threads, inputs).ToArray<float>();
    }
}
