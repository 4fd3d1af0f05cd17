using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// Float32 MaxPool against the ONNX definition computed here by scalar loops (max over the window positions
/// inside the input, NaN ignored), exactly, with every kernel set forced and at 1 and 2 threads: row widths
/// 16..70 for 3×3 stride 2 (the AVX-512 kernel's full vectors, its shifted last vector and its masked short
/// rows), SqueezeNet's three pools (split by planes), a few large planes (split by row bands), other widths and strides, pads and ceil_mode, NaN and infinities.
/// </summary>
public sealed class PoolMaxWideTests
{
    // channels, height, kernel, strides, pads (top, left, bottom, right), ceil_mode
    private static readonly (int C, int H, int[] K, int[] S, int[] P, int Ceil)[] Configs =
    [
        (2, 9, [3, 3], [2, 2], [0, 0, 0, 0], 0),
        (1, 8, [3, 3], [2, 2], [1, 1, 1, 1], 0),
        (1, 10, [3, 3], [2, 2], [0, 0, 0, 0], 1),
        (1, 6, [2, 2], [2, 2], [0, 0, 0, 0], 0),
        (1, 9, [4, 4], [2, 2], [1, 2, 1, 0], 0),
        (1, 11, [5, 5], [2, 2], [2, 2, 2, 2], 1),
        (1, 7, [3, 3], [1, 1], [1, 1, 1, 1], 0),
        (1, 5, [2, 3], [1, 1], [0, 0, 0, 0], 0),
    ];

    [Theory, MemberData(nameof(ConvFastPathTests.SetsAndThreads), MemberType = typeof(ConvFastPathTests))]
    public void ThreeByThreeStrideTwoMatchesTheDefinitionAtEveryWidth(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        for (int w = 16; w <= 70; w++) Check(set, threads, [2, 2, 7, w], [3, 3], [2, 2], [0, 0, 0, 0], 0, seed: w);
    }

    [Theory, MemberData(nameof(ConvFastPathTests.SetsAndThreads), MemberType = typeof(ConvFastPathTests))]
    public void OtherWindowsStridesAndPadsMatchTheDefinition(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        int seed = 100;
        foreach (var c in Configs)
            foreach (int w in new[] { 16, 17, 23, 31, 32, 33, 34, 47, 48, 63 })
                Check(set, threads, [1, c.C, c.H, w], c.K, c.S, c.P, c.Ceil, ++seed);
    }

    [Theory, MemberData(nameof(ConvFastPathTests.SetsAndThreads), MemberType = typeof(ConvFastPathTests))]
    public void SqueezeNetPoolsMatchTheDefinition(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        // SqueezeNet 1.0's three max pools (fewer channels): 111 → 55, 55 → 27, 27 → 13; enough planes to split over the pool.
        Check(set, threads, [1, 12, 111, 111], [3, 3], [2, 2], [0, 0, 0, 0], 0, seed: 1);
        Check(set, threads, [1, 40, 55, 55], [3, 3], [2, 2], [0, 0, 0, 0], 0, seed: 2);
        Check(set, threads, [1, 96, 27, 27], [3, 3], [2, 2], [0, 0, 0, 0], 0, seed: 3);
    }

    [Theory, MemberData(nameof(ConvFastPathTests.SetsAndThreads), MemberType = typeof(ConvFastPathTests))]
    public void FewLargePlanesMatchTheDefinition(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        // Fewer planes than parts: two threads split bands of output rows across the planes instead of whole planes.
        Check(set, threads, [1, 3, 224, 224], [3, 3], [2, 2], [0, 0, 0, 0], 0, seed: 4);
        Check(set, threads, [1, 2, 240, 241], [3, 3], [2, 2], [1, 1, 1, 1], 1, seed: 5);
    }

    /// <summary>
    /// 3×3 stride 2 with every window inside the input (<see cref="PoolMaxValid3x3"/> on AVX-512): rows under sixteen outputs
    /// (one masked strip), the last strip's loads stopping at the row's end (odd widths 2·OW + 1) or not (even widths), odd and
    /// even heights, few planes (split by row bands) and many (by planes), exact at one to three threads.
    /// </summary>
    [Theory, MemberData(nameof(SetsAndOneToThreeThreads))]
    public void ValidWindowsMatchTheDefinitionAtOneToThreeThreads(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        int seed = 500;
        foreach (int w in new[] { 7, 8, 15, 16, 31, 32, 33, 34, 35, 36, 65, 66 })
            foreach (int h in new[] { 3, 4, 15, 40 })
                Check(set, threads, [1, w % 2 == 0 ? 2 : 5, h, w], [3, 3], [2, 2], [0, 0, 0, 0], 0, ++seed);
        Check(set, threads, [2, 30, 27, 27], [3, 3], [2, 2], [0, 0, 0, 0], 0, ++seed);
    }

    public static TheoryData<string, int> SetsAndOneToThreeThreads()
    {
        var d = new TheoryData<string, int>();
        foreach (var ks in GemmKernelSet.Supported)
            foreach (int t in new[] { 1, 2, 3 }) d.Add(ks.Name, t);
        return d;
    }

    private static void Check(string set, int threads, int[] shape, int[] k, int[] s, int[] p, int ceil, int seed)
    {
        var x = ConvFastPathTests.Random(ConvFastPathTests.Size(shape), seed);
        // NaN never wins; infinities do (or lose) like any value.
        var r = new Random(seed);
        for (int i = 0; i < x.Length / 50 + 1; i++) x[r.Next(x.Length)] = float.NaN;
        x[r.Next(x.Length)] = float.PositiveInfinity;
        x[r.Next(x.Length)] = float.NegativeInfinity;
        var attrs = new List<Attr>
        {
            Attr.Ints("kernel_shape", k.Select(v => (long)v)), Attr.Ints("strides", s.Select(v => (long)v)),
            Attr.Ints("pads", p.Select(v => (long)v)), Attr.Int("ceil_mode", ceil),
        };
        var y = ConvFastPathTests.RunOne("MaxPool", "", attrs, threads, Tensor.FromArray(x, shape));
        var (expected, outShape) = Definition(x, shape, k, s, p, ceil != 0);
        string what = $"{set} {threads}T x {string.Join('x', shape)} k {string.Join('x', k)} s {s[0]} pads {string.Join(',', p)} ceil {ceil}";
        Assert.True(outShape.SequenceEqual(y.Shape.ToArray()), $"{what}: shape {string.Join('x', y.Shape.ToArray())}, expected {string.Join('x', outShape)}");
        var actual = y.ToArray<float>();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i].Equals(actual[i]), $"{what}: element {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>ONNX MaxPool (no dilation): output size floor or ceil((in + pads − k) / s) + 1, a ceil_mode window that would start in the end padding dropped.</summary>
    private static (float[] Y, int[] Shape) Definition(float[] x, int[] shape, int[] k, int[] s, int[] p, bool ceil)
    {
        int planes = shape[0] * shape[1], ih = shape[2], iw = shape[3];
        int Out(int n, int kk, int ss, int pb, int pe)
        {
            int span = n + pb + pe - kk;
            int o = (ceil ? (span + ss - 1) / ss : span / ss) + 1;
            return ceil && (o - 1) * ss >= n + pb ? o - 1 : o;
        }
        int oh = Out(ih, k[0], s[0], p[0], p[2]), ow = Out(iw, k[1], s[1], p[1], p[3]);
        var y = new float[planes * oh * ow];
        for (int pl = 0; pl < planes; pl++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    float best = float.NegativeInfinity;
                    for (int ky = 0; ky < k[0]; ky++)
                        for (int kx = 0; kx < k[1]; kx++)
                        {
                            int iy = oy * s[0] - p[0] + ky, ix = ox * s[1] - p[1] + kx;
                            if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                            float v = x[(pl * ih + iy) * iw + ix];
                            if (v > best) best = v;
                        }
                    y[(pl * oh + oy) * ow + ox] = best;
                }
        return (y, [shape[0], shape[1], oh, ow]);
    }
}
