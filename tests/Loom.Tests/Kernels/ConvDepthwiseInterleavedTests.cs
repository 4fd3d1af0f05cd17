using System.Runtime.Intrinsics;
using Loom.IR;
using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// The channel-interleaved 3×3 depthwise kernel (<see cref="ConvDepthwiseInterleaved512"/>) and the average pools it runs:
/// every plane size 1..14 (square and not) and a few larger up to 56×56, strides 1 and 2, symmetric, asymmetric and no padding, channel counts that
/// leave every block tail, batches whose blocks cross images, against the float64 definition with every kernel set this CPU
/// has; bit for bit against the AVX2 kernels (same sums in the same order) and across 1 and 2 threads.
/// </summary>
public sealed class ConvDepthwiseInterleavedTests
{
    private static readonly int[][] Pads = [[1, 1, 1, 1], [0, 0, 0, 0], [2, 0, 1, 2]];

    private static IEnumerable<(int N, int C, int H, int W, int Stride, int[] Pads)> Shapes()
    {
        int i = 0;
        for (int h = 1; h <= 14; h++)
            foreach (int w in new[] { h, 15 - h })
                foreach (int stride in new[] { 1, 2 })
                    foreach (var pads in Pads)
                    {
                        i++;
                        // Channel counts 1..40 in turn (every tail of a 16-channel block), every fifth case two images.
                        yield return (i % 5 == 0 ? 2 : 1, 1 + i * 7 % 40, h, w, stride, pads);
                    }
        // Larger planes (ShuffleNet's 28×28 and 56×56 → 28×28, and odd sizes around them).
        yield return (1, 17, 28, 28, 1, [1, 1, 1, 1]);
        yield return (2, 9, 27, 30, 1, [2, 0, 1, 2]);
        yield return (1, 20, 21, 28, 2, [2, 0, 1, 2]);
        yield return (1, 33, 56, 56, 2, [1, 1, 1, 1]);
        yield return (1, 5, 55, 41, 2, [0, 0, 0, 0]);
    }

    [Fact]
    public void TakesShuffleNetsLayersAndNotLargePlanes()
    {
        if (GemmKernelSet.Avx512 is null) Assert.Skip("needs AVX-512");
        using var _ = ConvFastPathTests.Force(GemmKernelSet.Avx512.Name);
        Assert.True(ConvDepthwiseInterleaved512.Supports(Geometry(7, 7, 1, [1, 1, 1, 1])));
        Assert.True(ConvDepthwiseInterleaved512.Supports(Geometry(14, 14, 1, [1, 1, 1, 1])));
        Assert.True(ConvDepthwiseInterleaved512.Supports(Geometry(14, 14, 2, [1, 1, 1, 1])));
        Assert.True(ConvDepthwiseInterleaved512.Supports(Geometry(28, 28, 1, [1, 1, 1, 1])));
        Assert.True(ConvDepthwiseInterleaved512.Supports(Geometry(56, 56, 2, [1, 1, 1, 1])));
        Assert.False(ConvDepthwiseInterleaved512.Supports(Geometry(29, 29, 1, [1, 1, 1, 1])));
        Assert.False(ConvDepthwiseInterleaved512.Supports(Geometry(56, 56, 1, [1, 1, 1, 1])));
        Assert.False(ConvDepthwiseInterleaved512.Supports(Geometry(57, 56, 2, [1, 1, 1, 1])));
    }

    [Fact]
    public void ConvMatchesTheDefinitionTheAvx2KernelsAndTwoThreads()
    {
        int seed = 0;
        foreach (var (n, c, h, w, stride, pads) in Shapes())
        {
            seed++;
            int[] xs = [n, c, h, w], ws = [c, 1, 3, 3];
            if (OutputSize(h, pads[0], pads[2], stride) < 1 || OutputSize(w, pads[1], pads[3], stride) < 1) continue;
            var x = ConvFastPathTests.Random(ConvFastPathTests.Size(xs), seed);
            var wt = ConvFastPathTests.Random(ConvFastPathTests.Size(ws), seed + 1000);
            var b = ConvFastPathTests.Random(c, seed + 2000);
            var expected = ConvTests.NaiveConv(x, xs, wt, ws, b, c, [stride, stride], pads, [1, 1], out _);
            var attrs = ConvFastPathTests.ConvAttrs(c, [stride, stride], pads, [1, 1]);
            string what = $"n {n} c {c} {h}x{w} stride {stride} pads {string.Join(',', pads)}";
            AgreeEverywhere(set => ConvFastPathTests.RunOne("Conv", "", attrs, set.Threads, ConvFastPathTests.F(x, xs), ConvFastPathTests.F(wt, ws),
                ConvFastPathTests.F(b, c)), expected, what);
        }
    }

    [Fact]
    public void AveragePoolMatchesTheDefinitionTheAvx2KernelsAndTwoThreads()
    {
        int seed = 0;
        foreach (var (n, c, h, w, stride, pads) in Shapes())
            foreach (int includePad in new[] { 0, 1 })
            {
                seed++;
                if (OutputSize(h, pads[0], pads[2], stride) < 1 || OutputSize(w, pads[1], pads[3], stride) < 1) continue;
                int[] xs = [n, c, h, w];
                var x = ConvFastPathTests.Random(ConvFastPathTests.Size(xs), seed);
                var attrs = new List<Attr>
                {
                    Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [stride, stride]), Attr.Ints("pads", pads.Select(v => (long)v)),
                    Attr.Int("count_include_pad", includePad),
                };
                var expected = Loom.Tests.Support.OpTester.Run("AveragePool", attrs, 1, 12, "", Tensor.FromArray(x.Select(v => (double)v).ToArray(), xs))[0]
                    .ToArray<double>();
                string what = $"pool n {n} c {c} {h}x{w} stride {stride} pads {string.Join(',', pads)} include {includePad}";
                AgreeEverywhere(set => ConvFastPathTests.RunOne("AveragePool", "", attrs, set.Threads, Tensor.FromArray(x, xs)), expected, what);
            }
    }

    [Fact]
    public void TransposesSixteenBySixteen()
    {
        if (!Vector512.IsHardwareAccelerated || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Assert.Skip("needs AVX-512");
        var r = new Vector512<float>[16];
        for (int i = 0; i < 16; i++) r[i] = Vector512.Create(Enumerable.Range(0, 16).Select(j => (float)(i * 16 + j)).ToArray());
        Transpose16x16.Run(ref r[0], ref r[1], ref r[2], ref r[3], ref r[4], ref r[5], ref r[6], ref r[7], ref r[8], ref r[9], ref r[10], ref r[11],
            ref r[12], ref r[13], ref r[14], ref r[15]);
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++) Assert.Equal(j * 16 + i, r[i][j]);
    }

    private readonly record struct Run(string Set, int Threads);

    /// <summary>Every kernel set at 1 thread near the definition; AVX-512 at 2 threads and AVX2 bit for bit equal to AVX-512 at 1.</summary>
    private static void AgreeEverywhere(Func<Run, Tensor> run, double[] expected, string what)
    {
        var results = new Dictionary<Run, float[]>();
        foreach (var ks in GemmKernelSet.Supported)
        {
            using var _ = ConvFastPathTests.Force(ks.Name);
            foreach (int threads in ks == GemmKernelSet.Avx512 ? new[] { 1, 2 } : [1])
            {
                var key = new Run(ks.Name, threads);
                results[key] = run(key).ToArray<float>();
                ConvFastPathTests.AssertNear(expected, results[key], $"{what} {ks.Name} {threads}T");
            }
        }
        if (GemmKernelSet.Avx512 is not { } wide) return;
        var one = results[new Run(wide.Name, 1)];
        Assert.True(one.SequenceEqual(results[new Run(wide.Name, 2)]), $"{what}: two threads differ from one");
        if (GemmKernelSet.Avx2 is { } narrow)
            Assert.True(one.SequenceEqual(results[new Run(narrow.Name, 1)]), $"{what}: AVX-512 differs from AVX2");
    }

    private static int OutputSize(int size, int begin, int end, int stride) => size + begin + end < 3 ? 0 : (size + begin + end - 3) / stride + 1;

    private static Conv3D Geometry(int h, int w, int stride, int[] pads)
    {
        var node = new Node("Conv", ["x", "w"], ["y"], ConvFastPathTests.ConvAttrs(16, [stride, stride], pads, [1, 1]));
        var p = ConvProblem.Create(ConvAttributes.Parse(node, e => new ShapeException(e)), [1, 16, h, w], [16, 1, 3, 3], e => new ShapeException(e));
        return new Conv3D(p.Geometry);
    }
}
