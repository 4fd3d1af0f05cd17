using Loom.IR;
using Loom.Kernels.Common;
using Loom.Tests.Support;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// Every float32 convolution path (GEMM with im2col or pointwise B, depthwise, direct, grouped, fused
/// epilogue) against the float64 definition, on edge sizes (1, primes, non-multiples of the vector width
/// and of the GEMM tiles), with every GEMM kernel set this CPU supports forced in turn, at 1 and 2 threads.
/// </summary>
public sealed class ConvFastPathTests
{
    public static TheoryData<string, int> SetsAndThreads()
    {
        var d = new TheoryData<string, int>();
        foreach (var ks in GemmKernelSet.Supported)
            foreach (int t in new[] { 1, 2 }) d.Add(ks.Name, t);
        return d;
    }

    // x shape, w shape, group, strides, pads (begin..., end...), dilations
    private static readonly (int[] X, int[] W, int Group, int[] S, int[] P, int[] D)[] Cases =
    [
        // depthwise 3x3 and 5x5, strides 1 and 2, odd widths, dilation, asymmetric pads
        ([1, 3, 13, 31], [3, 1, 3, 3], 3, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([2, 5, 17, 40], [5, 1, 3, 3], 5, [2, 2], [1, 1, 1, 1], [1, 1]),
        ([1, 4, 23, 37], [4, 1, 5, 5], 4, [2, 2], [2, 2, 2, 2], [1, 1]),
        ([1, 2, 11, 29], [2, 1, 3, 3], 2, [1, 1], [2, 0, 1, 3], [2, 2]),
        ([1, 3, 1, 1], [3, 1, 3, 3], 3, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([1, 2, 9, 19], [2, 1, 3, 3], 2, [3, 1], [0, 0, 0, 0], [1, 1]),
        ([1, 2, 10, 20], [2, 1, 3, 3], 2, [1, 3], [1, 1, 1, 1], [1, 1]),
        ([1, 7, 6, 6], [7, 1, 5, 5], 7, [1, 1], [2, 2, 2, 2], [1, 1]),
        // depthwise stride 1 on MobileNet/ShuffleNet planes (AVX-512: whole-vector rows, masked tails; 16-wide rows too)
        ([1, 17, 14, 14], [17, 1, 3, 3], 17, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([2, 9, 7, 7], [9, 1, 3, 3], 9, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([1, 5, 28, 28], [5, 1, 5, 5], 5, [1, 1], [2, 2, 2, 2], [1, 1]),
        ([1, 3, 16, 16], [3, 1, 3, 3], 3, [1, 1], [0, 1, 2, 1], [1, 1]),
        // depthwise stride 2 by phases (AVX-512): odd and even sizes, asymmetric pads, an even kernel
        ([1, 7, 14, 14], [7, 1, 3, 3], 7, [2, 2], [1, 1, 1, 1], [1, 1]),
        ([1, 3, 56, 56], [3, 1, 3, 3], 3, [2, 2], [1, 1, 1, 1], [1, 1]),
        ([2, 4, 9, 9], [4, 1, 3, 3], 4, [2, 2], [0, 0, 1, 1], [1, 1]),
        ([1, 3, 8, 11], [3, 1, 2, 2], 3, [2, 2], [0, 0, 0, 0], [1, 1]),
        // pointwise (pure GEMM on NCHW): tile remainders in M and N
        ([1, 3, 7, 11], [33, 3, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1]),
        ([2, 16, 5, 5], [7, 16, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1]),
        ([1, 13, 1, 1], [5, 13, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1]),
        ([1, 16, 20, 21], [37, 16, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1]),
        // strided pointwise: the subsampled image as the one phase plane (odd sizes, unequal strides, padding, ResNet-like 56 -> 28)
        ([1, 16, 21, 19], [37, 16, 1, 1], 1, [2, 2], [0, 0, 0, 0], [1, 1]),
        ([2, 9, 17, 23], [12, 9, 1, 1], 1, [2, 3], [0, 0, 0, 0], [1, 1]),
        ([1, 8, 15, 15], [16, 8, 1, 1], 1, [2, 2], [1, 0, 1, 2], [1, 1]),
        ([1, 32, 56, 56], [40, 32, 1, 1], 1, [2, 2], [0, 0, 0, 0], [1, 1]),
        ([1, 24, 14, 14], [33, 24, 1, 1], 1, [2, 2], [0, 0, 0, 0], [1, 1]),
        // pointwise over few positions: the transposed product (7x7 stage; 13 channels leave a partial 8-block)
        ([2, 24, 7, 7], [13, 24, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1]),
        // im2col GEMM, large enough to split across threads; first-layer style 3 channels
        ([1, 16, 40, 41], [37, 16, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([1, 3, 31, 29], [16, 3, 3, 3], 1, [2, 2], [1, 1, 1, 1], [1, 1]),
        ([1, 8, 9, 9], [24, 8, 3, 3], 1, [1, 1], [0, 0, 0, 0], [1, 1]),
        // 3x3 over few positions: the transposed im2col product (13x13 and 6x6 stages)
        ([1, 20, 13, 13], [136, 20, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([2, 12, 6, 6], [129, 12, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1]),
        // ... from phase planes (stride 2, 7x7: a one-row tail tile), and with dilation and asymmetric pads
        ([1, 10, 14, 14], [72, 10, 3, 3], 1, [2, 2], [1, 1, 1, 1], [1, 1]),
        ([1, 9, 11, 12], [64, 9, 3, 3], 1, [1, 1], [2, 1, 0, 2], [2, 1]),
        // ... past 256 positions at stride 1 (306 positions: 17x18, rows of 18 and 20-wide planes; eight positions over two rows)
        ([1, 8, 17, 18], [64, 8, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1]),
        // grouped GEMM (4 rows per group), and direct (2 rows per group, channel multiplier 2)
        ([2, 8, 10, 10], [16, 2, 3, 3], 4, [1, 1], [1, 1, 1, 1], [1, 1]),
        // grouped 1x1 deeper than 8 channels: read from the image per group (144 and 196 positions), and on the GEMM path from
        // the same full-depth packs over 49 positions
        ([1, 36, 12, 12], [30, 12, 1, 1], 3, [1, 1], [0, 0, 0, 0], [1, 1]),
        ([2, 24, 14, 14], [26, 12, 1, 1], 2, [1, 1], [0, 0, 0, 0], [1, 1]),
        ([1, 40, 7, 7], [44, 10, 1, 1], 4, [1, 1], [0, 0, 0, 0], [1, 1]),
        ([1, 4, 7, 7], [4, 2, 3, 3], 2, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([1, 3, 8, 8], [6, 1, 3, 3], 3, [1, 1], [1, 1, 1, 1], [1, 1]),
        // stride 1 read straight from the (padded) image: dilation, asymmetric pads, batch, 1-D
        ([2, 6, 12, 17], [10, 6, 3, 3], 1, [1, 1], [2, 1, 0, 2], [2, 1]),
        ([2, 4, 33], [5, 4, 5], 1, [1], [2, 2], [1]),
        ([1, 6, 5, 70], [10, 6, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1]),
        // 1-D
        ([1, 5, 67], [9, 5, 3], 1, [2], [1, 1], [1]),
        ([1, 6, 50], [6, 1, 7], 6, [1], [3, 3], [1]),
    ];

    [Theory, MemberData(nameof(SetsAndThreads))]
    public void ConvMatchesDefinition(string set, int threads)
    {
        using var _ = Force(set);
        int seed = 0;
        foreach (var c in Cases)
        {
            seed++;
            var x = Random(Size(c.X), seed);
            var w = Random(Size(c.W), seed + 100);
            var b = Random(c.W[0], seed + 200);
            var expected = ConvTests.NaiveConv(x, c.X, w, c.W, b, c.Group, c.S, c.P, c.D, out var shape);
            var y = RunOne("Conv", "", ConvAttrs(c.Group, c.S, c.P, c.D), threads, F(x, c.X), F(w, c.W), F(b, c.W[0]));
            Assert.Equal(shape, y.Shape.ToArray());
            AssertNear(expected, y.ToArray<float>(), $"{set} case {seed}");
        }
    }

    /// <summary>
    /// A pointwise layer with far more output channels than positions (SqueezeNet's classifier: 1000 over 13×13) splits its weights
    /// into row blocks over every column, so each thread reaches the partial last panel in several parts and packs it once: against the
    /// definition, and at 2 and 3 threads bit for bit the one-thread output.
    /// </summary>
    [Fact]
    public void PointwiseWithLargeWeightsSplitsByRowsBitForBit()
    {
        int[] xs = [1, 96, 13, 13], ws = [520, 96, 1, 1];
        var x = Random(Size(xs), 31);
        var w = Random(Size(ws), 32);
        var b = Random(ws[0], 33);
        var expected = ConvTests.NaiveConv(x, xs, w, ws, b, 1, [1, 1], [0, 0, 0, 0], [1, 1], out _).Select(v => Math.Max(v, 0)).ToArray();
        var attrs = ConvAttrs(1, [1, 1], [0, 0, 0, 0], [1, 1]).Append(Attr.String("activation", "Relu")).ToArray();
        foreach (var ks in GemmKernelSet.Supported)
        {
            using var forced = Force(ks.Name);
            var plan = GemmPartition.Plan(ks, ws[0], 169, 96, 2, aPacked: true, bPacked: true);
            Assert.True(plan.ColParts == 1 && plan.RowParts >= 2, $"{ks.Name}: {plan.RowParts}x{plan.ColParts} blocks");
            var one = RunOne("FusedConv", "com.loom", attrs, 1, F(x, xs), F(w, ws), F(b, ws[0])).ToArray<float>();
            AssertNear(expected, one, ks.Name);
            foreach (int threads in new[] { 2, 3 })
                Assert.Equal(one, RunOne("FusedConv", "com.loom", attrs, threads, F(x, xs), F(w, ws), F(b, ws[0])).ToArray<float>());
        }
    }

    // One case per path: image read directly (3x3; rows long enough for tiles stored straight to Y; stride 2 by phase planes),
    // pointwise (unpadded image read directly),
    // depthwise (strides 2 and 1), direct, few positions (1x1 and 3x3).
    private static readonly (int[] X, int[] W, int Group, int[] S, int[] P, int[] D)[] FusedCases =
    [
        ([1, 6, 5, 70], [10, 6, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([1, 5, 11, 23], [9, 5, 3, 3], 1, [2, 2], [1, 1, 1, 1], [1, 1]),
        ([1, 16, 20, 21], [37, 16, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1]),
        ([2, 5, 17, 40], [5, 1, 3, 3], 5, [2, 2], [1, 1, 1, 1], [1, 1]),
        ([1, 6, 9, 70], [6, 1, 3, 3], 6, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([1, 9, 14, 14], [9, 1, 3, 3], 9, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([1, 9, 14, 14], [9, 1, 3, 3], 9, [2, 2], [1, 1, 1, 1], [1, 1]),
        ([1, 4, 7, 7], [4, 2, 3, 3], 2, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([2, 24, 7, 7], [13, 24, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1]),
        ([1, 20, 13, 13], [136, 20, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([1, 10, 14, 14], [72, 10, 3, 3], 1, [2, 2], [1, 1, 1, 1], [1, 1]),
        ([1, 8, 17, 18], [64, 8, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1]),
        ([1, 36, 12, 12], [30, 12, 1, 1], 3, [1, 1], [0, 0, 0, 0], [1, 1]),
    ];

    /// <summary>
    /// Which grouped 1×1 layers read B from the image per group (the cases above rely on it): deeper than ConvPointwiseNarrow's
    /// 8 channels, at most KC, over at least four NR panels of positions (ShuffleNet's 28×28 and 14×14 stages, not its 7×7).
    /// </summary>
    [Fact]
    public void GroupedPointwiseReadsTheImageFromFourPanels()
    {
        foreach (var ks in GemmKernelSet.Supported)
        {
            bool Wide(int c, int m, int h, int group)
            {
                var node = new Node("Conv", ["x", "w"], ["y"], ConvAttrs(group, [1, 1], [0, 0, 0, 0], [1, 1]));
                var p = ConvProblem.Create(ConvAttributes.Parse(node, e => new ShapeException(e)), [1, c, h, h], [m, c / group, 1, 1], e => new ShapeException(e));
                return ConvWideGemm.Supports(new Conv3D(p.Geometry), p.Group, p.GroupDepth, ks);
            }
            Assert.True(Wide(136, 136, 28, 4), ks.Name);
            Assert.True(Wide(272, 272, 14, 4), ks.Name);
            Assert.True(Wide(36, 30, 12, 3) == (144 >= 4 * ks.NR), ks.Name);
            Assert.True(Wide(544, 544, 7, 4) == (49 >= 4 * ks.NR), ks.Name);  // 49 positions: two panels of 32
            Assert.False(Wide(24, 112, 56, 4), ks.Name);  // 6 channels a group: ConvPointwiseNarrow's
            Assert.False(Wide(1200, 8, 28, 4), ks.Name);  // 300 channels a group: deeper than KC
        }
    }

    /// <summary>
    /// Grouped 1×1 layers read from the image: with fewer groups than twice the threads each group's product splits itself,
    /// with more each group is one part; at 2 and 3 threads bit for bit the one-thread output, with a residual and activation.
    /// </summary>
    [Fact]
    public void GroupedPointwiseBitForBitAcrossThreads()
    {
        foreach (var (xs, ws, group) in new (int[], int[], int)[] { ([1, 24, 20, 20], [26, 12, 1, 1], 2), ([1, 64, 14, 14], [68, 16, 1, 1], 4) })
        {
            var x = Random(Size(xs), 41);
            var w = Random(Size(ws), 42);
            var b = Random(ws[0], 43);
            var expected = ConvTests.NaiveConv(x, xs, w, ws, b, group, [1, 1], [0, 0, 0, 0], [1, 1], out var shape);
            var z = Random(expected.Length, 44);
            var attrs = ConvAttrs(group, [1, 1], [0, 0, 0, 0], [1, 1]).Append(Attr.String("activation", "Relu")).ToArray();
            foreach (var ks in GemmKernelSet.Supported)
            {
                using var forced = Force(ks.Name);
                var one = RunOne("FusedConv", "com.loom", attrs, 1, F(x, xs), F(w, ws), F(b, ws[0]), F(z, shape)).ToArray<float>();
                AssertNear(expected.Select((v, i) => Math.Max(v + z[i], 0)).ToArray(), one, $"{ks.Name} group {group}");
                foreach (int threads in new[] { 2, 3 })
                    Assert.Equal(one, RunOne("FusedConv", "com.loom", attrs, threads, F(x, xs), F(w, ws), F(b, ws[0]), F(z, shape)).ToArray<float>());
            }
        }
    }

    /// <summary>
    /// Which layers the few-positions path takes (the cases above rely on it): 3x3 stride 1 up to 1024 positions whenever it
    /// computes fewer columns than the wide layout (ResNet's 28x28, SqueezeNet's 27x27), stride 2 and pointwise only up to 256.
    /// </summary>
    [Fact]
    public void FewPositionsTakesStrideOneLayersUpTo1024Positions()
    {
        var ks = GemmKernelSet.Avx512;
        if (ks is null) return;
        bool Worth(int c, int m, int h, int k, int s, int pad)
        {
            var node = new Node("Conv", ["x", "w"], ["y"], ConvAttrs(1, [s, s], [pad, pad, pad, pad], [1, 1]));
            var p = ConvProblem.Create(ConvAttributes.Parse(node, e => new ShapeException(e)), [1, c, h, h], [m, c, k, k], e => new ShapeException(e));
            var g = new Conv3D(p.Geometry);
            var wide = ConvWideGemm.Supports(g, p.Group, p.GroupDepth, ks) ? new ConvWideGemm.Layout(g, p.Channels, ks.NR) : null;
            return ConvFewPositions.Worth(g, p.Group, p.OutChannels, ks, wide);
        }
        Assert.True(Worth(128, 128, 28, 3, 1, 1));
        Assert.True(Worth(32, 128, 27, 3, 1, 1));
        Assert.True(Worth(8, 64, 17, 3, 1, 1));     // the 17x18-like case above, square here
        Assert.False(Worth(64, 64, 56, 3, 1, 1));   // 3136 positions
        Assert.False(Worth(128, 128, 56, 3, 2, 1)); // stride 2 at 784 positions
        Assert.False(Worth(16, 32, 28, 3, 1, 1));   // fewer than 64 output channels
        Assert.True(Worth(256, 256, 14, 3, 1, 1));
    }

    /// <summary>
    /// FusedConv's pre-activation (x' = relu(x·scale[c] + shift[c]), then zero padding) on depthwise layers of both AVX-512
    /// paths (stride 1 and stride 2 by phases) and the narrower sets, against the definition on the transformed input.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void PreActivatedDepthwiseMatchesTheDefinition(int stride)
    {
        int[] xs = [1, 5, 14, 13], ws = [5, 1, 3, 3];
        var x = Random(Size(xs), 7);
        var w = Random(Size(ws), 8);
        var b = Random(5, 9);
        float[] scale = [0.5f, -1.5f, 2f, 1f, -0.25f], shift = [0.1f, 0.2f, -0.3f, 0f, 0.5f];
        var transformed = x.Select((v, i) => Math.Max(0f, v * scale[i / (14 * 13)] + shift[i / (14 * 13)])).ToArray();
        var expected = ConvTests.NaiveConv(transformed, xs, w, ws, b, 5, [stride, stride], [1, 1, 1, 1], [1, 1], out var shape);
        var attrs = ConvAttrs(5, [stride, stride], [1, 1, 1, 1], [1, 1]).Append(Attr.String("input_activation", "Relu"));
        foreach (var ks in GemmKernelSet.Supported)
        {
            using var forced = Force(ks.Name);
            var y = RunOne("FusedConv", "com.loom", attrs, 2, F(x, xs), F(w, ws), F(b, 5), null, F(scale, 5), F(shift, 5));
            Assert.Equal(shape, y.Shape.ToArray());
            AssertNear(expected, y.ToArray<float>(), $"{ks.Name} stride {stride}");
        }
    }

    public static TheoryData<string, float[]> Activations() => new()
    {
        { "Relu", [] }, { "Clip", [-0.3f, 0.4f] }, { "LeakyRelu", [0.1f] }, { "HardSigmoid", [0.25f, 0.4f] },
        { "HardSwish", [] }, { "Sigmoid", [] }, { "Tanh", [] }, { "None", [] },
    };

    [Theory, MemberData(nameof(Activations))]
    public void FusedConvEqualsConvThenAddThenActivation(string activation, float[] parameters)
    {
        int seed = 0;
        foreach (var c in FusedCases)
        {
            seed++;
            var x = Random(Size(c.X), seed);
            var w = Random(Size(c.W), seed + 1);
            var b = Random(c.W[0], seed + 2);
            var conv = ConvTests.NaiveConv(x, c.X, w, c.W, b, c.Group, c.S, c.P, c.D, out var shape);
            var plain = ConvTests.NaiveConv(x, c.X, w, c.W, null, c.Group, c.S, c.P, c.D, out _);
            var z = Random(conv.Length, seed + 3);
            var attrs = ConvAttrs(c.Group, c.S, c.P, c.D).Append(Attr.String("activation", activation));
            if (parameters.Length > 0) attrs = attrs.Append(Attr.Floats("activation_params", parameters));
            var withResidual = conv.Select((v, i) => Activate(activation, parameters, v + z[i])).ToArray();
            var withBias = conv.Select(v => Activate(activation, parameters, v)).ToArray();
            var bare = plain.Select(v => Activate(activation, parameters, v)).ToArray();
            foreach (var ks in GemmKernelSet.Supported)
            {
                using var forced = Force(ks.Name);
                string what = $"{ks.Name} {activation} case {seed}";
                AssertNear(withResidual, RunOne("FusedConv", "com.loom", attrs, 2, F(x, c.X), F(w, c.W), F(b, c.W[0]), F(z, shape)).ToArray<float>(), what + " residual");
                AssertNear(withBias, RunOne("FusedConv", "com.loom", attrs, 2, F(x, c.X), F(w, c.W), F(b, c.W[0])).ToArray<float>(), what);
                // No bias: partial tiles must still get the activation.
                AssertNear(bare, RunOne("FusedConv", "com.loom", attrs, 1, F(x, c.X), F(w, c.W)).ToArray<float>(), what + " no bias");
            }
        }
    }

    [Theory, MemberData(nameof(SetsAndThreads))]
    public void ConvTransposeMatchesTheFloat64Path(string set, int threads)
    {
        using var _ = Force(set);
        // x shape, w shape [C, M/group, k...], group, strides, pads, output_padding, dilations
        var cases = new (int[] X, int[] W, int Group, int[] S, int[] P, int[] Op, int[] D)[]
        {
            ([1, 24, 9, 11], [24, 5, 2, 2], 1, [2, 2], [0, 0, 0, 0], [0, 0], [1, 1]),
            ([2, 6, 7, 5], [6, 3, 3, 3], 2, [2, 1], [1, 0, 1, 1], [1, 0], [1, 2]),
            ([1, 3, 17], [3, 4, 4], 1, [3], [1, 2], [2], [1]),
            ([1, 40, 20, 20], [40, 9, 3, 3], 1, [1, 1], [1, 1, 1, 1], [0, 0], [1, 1]),
        };
        int seed = 50;
        foreach (var c in cases)
        {
            var x = Random(Size(c.X), ++seed);
            var w = Random(Size(c.W), seed + 100);
            var b = Random(c.W[1] * c.Group, seed + 200);
            var attrs = new List<Attr>
            {
                Attr.Int("group", c.Group), Attr.Ints("strides", c.S.Select(v => (long)v)), Attr.Ints("pads", c.P.Select(v => (long)v)),
                Attr.Ints("output_padding", c.Op.Select(v => (long)v)), Attr.Ints("dilations", c.D.Select(v => (long)v)),
            };
            var fast = RunOne("ConvTranspose", "", attrs, threads, F(x, c.X), F(w, c.W), F(b, b.Length)).ToArray<float>();
            var reference = OpTester.Run("ConvTranspose", attrs, Tensor.FromArray(x.Select(v => (double)v).ToArray(), c.X),
                Tensor.FromArray(w.Select(v => (double)v).ToArray(), c.W), Tensor.FromArray(b.Select(v => (double)v).ToArray(), b.Length))[0].ToArray<double>();
            AssertNear(reference, fast, $"{set} ConvTranspose case {seed}");
        }
    }

    [Fact]
    public void FusedConvPreActivationTransformsTheInputBeforePadding()
    {
        int seed = 80;
        foreach (var c in FusedCases)
        {
            var x = Random(Size(c.X), ++seed);
            var w = Random(Size(c.W), seed + 1);
            var b = Random(c.W[0], seed + 2);
            int channels = c.X[1], plane = Size(c.X) / c.X[0] / channels;
            var scale = Random(channels, seed + 3);
            var shift = Random(channels, seed + 4);
            // Padding is zero after the transform: transform X, then convolve by the definition.
            var xt = x.Select((v, i) => Math.Max(v * scale[i / plane % channels] + shift[i / plane % channels], 0f)).ToArray();
            var expected = ConvTests.NaiveConv(xt, c.X, w, c.W, b, c.Group, c.S, c.P, c.D, out var shape).Select(v => Math.Max(v, 0)).ToArray();
            var attrs = ConvAttrs(c.Group, c.S, c.P, c.D).Append(Attr.String("activation", "Relu")).Append(Attr.String("input_activation", "Relu"));
            var y = RunOne("FusedConv", "com.loom", attrs, 2, F(x, c.X), F(w, c.W), F(b, c.W[0]), null, F(scale, channels), F(shift, channels));
            Assert.Equal(shape, y.Shape.ToArray());
            AssertNear(expected, y.ToArray<float>(), $"pre-activation case {seed}");
        }
    }

    [Fact]
    public void FusedConvRejectsAResidualOfAnotherShape()
    {
        var c = FusedCases[2];
        var e = Assert.ThrowsAny<LoomException>(() => RunOne("FusedConv", "com.loom", ConvAttrs(c.Group, c.S, c.P, c.D).Append(Attr.String("activation", "Relu")), 1,
            F(Random(Size(c.X), 1), c.X), F(Random(Size(c.W), 2), c.W), F(Random(c.W[0], 3), c.W[0]), F(Random(7, 4), 7)));
        Assert.Contains("residual", e.Message);
    }

    [Fact]
    public void FusedConvRejectsUnknownActivations()
    {
        var c = FusedCases[2];
        Assert.ThrowsAny<LoomException>(() => RunOne("FusedConv", "com.loom", ConvAttrs(c.Group, c.S, c.P, c.D).Append(Attr.String("activation", "Gelu")), 1,
            F(Random(Size(c.X), 1), c.X), F(Random(Size(c.W), 2), c.W)));
    }

    /// <summary>The ONNX definitions, in double.</summary>
    internal static double Activate(string name, float[] p, double v) => name switch
    {
        "Relu" => Math.Max(v, 0),
        "Clip" => Math.Min(Math.Max(v, p[0]), p[1]),
        "LeakyRelu" => v >= 0 ? v : p[0] * v,
        "HardSigmoid" => Math.Min(Math.Max(p[0] * v + p[1], 0), 1),
        "HardSwish" => v * Math.Min(Math.Max(v / 6 + 0.5, 0), 1),
        "Sigmoid" => 1 / (1 + Math.Exp(-v)),
        "Tanh" => Math.Tanh(v),
        _ => v,
    };

    internal static IEnumerable<Attr> ConvAttrs(int group, int[] s, int[] p, int[] d) =>
    [
        Attr.Int("group", group), Attr.Ints("strides", s.Select(v => (long)v)), Attr.Ints("pads", p.Select(v => (long)v)),
        Attr.Ints("dilations", d.Select(v => (long)v)),
    ];

    /// <summary>
    /// A random FusedConv case (seeded): its attributes, its inputs (X, W, then the bias and the residual Z when asked) and the
    /// float64 definition's output, act(conv(X, W) + b + Z).
    /// </summary>
    internal static (double[] Expected, IEnumerable<Attr> Attrs, Tensor?[] Inputs) FusedConvCase(int[] xs, int[] ws, int group, int[] strides,
        int[] pads, string activation, float[] parameters, bool residual, int seed, bool bias)
    {
        var x = Random(Size(xs), seed);
        var w = Random(Size(ws), seed + 10);
        var b = Random(ws[0], seed + 20);
        var conv = ConvTests.NaiveConv(x, xs, w, ws, bias ? b : null, group, strides, pads, [1, 1], out var shape);
        var z = Random(conv.Length, seed + 30);
        var expected = conv.Select((v, i) => Activate(activation, parameters, residual ? v + z[i] : v)).ToArray();
        var attrs = ConvAttrs(group, strides, pads, [1, 1]).Append(Attr.String("activation", activation));
        if (parameters.Length > 0) attrs = attrs.Append(Attr.Floats("activation_params", parameters));
        var inputs = new List<Tensor?> { F(x, xs), F(w, ws) };
        if (bias) inputs.Add(F(b, ws[0]));
        if (residual) inputs.Add(F(z, shape));
        return (expected, attrs, inputs.ToArray());
    }

    /// <summary>One node on a session with the given intra-op threads; input 1 (the weights) is an initializer, so it is pre-packed as in a real model.</summary>
    internal static Tensor RunOne(string op, string domain, IEnumerable<Attr> attrs, int threads, params Tensor?[] inputs)
    {
        var model = OpTester.BuildModel(op, attrs, 1, domain.Length == 0 ? 21 : 1, domain, inputs);
        var g = model.Graph;
        var inits = inputs.Length > 1 ? new Dictionary<string, Tensor> { ["in1"] = inputs[1]! } : [];
        var graph = new Graph(g.Name, g.Inputs.Where(i => !inits.ContainsKey(i.Name)), g.Outputs, g.Nodes, inits);
        using var session = LoomSession.Create(model.WithGraph(graph), new LoomSessionOptions { IntraOpThreads = threads, VerifyInferredShapes = true });
        var feeds = new Dictionary<string, LoomValue>();
        for (int i = 0; i < inputs.Length; i++) if (inputs[i] is { } t && !inits.ContainsKey($"in{i}")) feeds[$"in{i}"] = t;
        using var r = session.Run(feeds);
        var y = (Tensor)r[0].Value;
        return Tensor.FromArray(y.ToArray<float>(), y.Shape);
    }

    /// <summary>Makes kernels on this thread use the named kernel set until disposed.</summary>
    internal static IDisposable Force(string set)
    {
        GemmKernelSet.Forced = GemmKernelSet.Supported.Single(k => k.Name == set);
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose() => GemmKernelSet.Forced = null;
    }

    internal static void AssertNear(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.Abs(expected[i])) || (double.IsNaN(expected[i]) && float.IsNaN(actual[i])),
                $"{what}: element {i}: expected {expected[i]}, got {actual[i]}");
    }

    internal static int Size(int[] s) => s.Aggregate(1, (a, v) => a * v);

    internal static Tensor F(float[] data, params int[] shape) => Tensor.FromArray(data, shape);

    internal static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }
}
