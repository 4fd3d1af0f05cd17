using Loom.Import.Onnx;
using Loom.IR;
using Loom.Kernels.Common;
using Loom.Passes;
using Loom.Tests.Kernels;
using Loom.Tests.Support;
using static Loom.Tests.Passes.PassTestModels;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Passes;

/// <summary>
/// ShuffleNet's channel shuffle (Reshape → Transpose → Reshape) folded into the depthwise convolution after it as FusedConv's
/// input_channels: the rewrite in text form, where it must not apply, and the outputs against ONNX Runtime running the
/// shuffle as written — every kernel set (so every depthwise kernel reads the map), strides 1 and 2, 1 and 2 threads.
/// </summary>
public sealed class FoldChannelShuffleTests
{
    private static Graph Shuffled(int channels, int groups, int size, int stride, string? extraReader = null, long convGroup = 0)
    {
        if (convGroup == 0) convGroup = channels;
        var r = new Random(channels * 31 + stride);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
        var inits = new Dictionary<string, Tensor>
        {
            ["split"] = Tensor.FromArray(new long[] { 1, groups, channels / groups, size, size }, 5),
            ["merge"] = Tensor.FromArray(new long[] { 1, channels, size, size }, 4),
            ["w"] = Tensor.FromArray(Rand(channels * (channels / (int)convGroup) * 9), channels, channels / (int)convGroup, 3, 3),
            ["b"] = Tensor.FromArray(Rand(channels), channels),
        };
        List<Node> nodes =
        [
            N("Reshape", ["x", "split"], ["s"]),
            N("Transpose", ["s"], ["t"], Attr.Ints("perm", [0, 2, 1, 3, 4])),
            N("Reshape", ["t", "merge"], ["m"]),
            N("Conv", ["m", "w", "b"], ["y"], Attr.Int("group", convGroup), Attr.Ints("kernel_shape", [3, 3]),
                Attr.Ints("pads", [1, 1, 1, 1]), Attr.Ints("strides", [stride, stride])),
        ];
        List<ValueInfo> outputs = [V("y")];
        if (extraReader is not null)
        {
            nodes.Add(N("Neg", [extraReader], ["other"]));
            outputs.Add(V("other"));
        }
        return new Graph("main", [V("x", $"float32[1,{channels},{size},{size}]")], outputs, nodes, inits);
    }

    [Fact]
    public void TheShuffleBecomesTheDepthwiseConvolutionsChannelMap()
    {
        // Output channel j = k·2 + g reads input channel g·3 + k: 0, 3, 1, 4, 2, 5.
        var before = Inferred(Shuffled(6, 2, 4, 1));
        var folded = FoldChannelShuffle.Run(before);
        Assert.Contains("""
              s = Reshape(x, split)
              t = Transpose(s) {perm=[0, 2, 1, 3, 4]}
              m = Reshape(t, merge)
              y = Conv(m, w, b) {group=6, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]}
            """.Replace("\r", ""), Text(before));
        // After: the convolution reads x through its channel map (the shape constants stay, unread).
        AssertText("""
            graph main(x: float32[1,6,4,4]) -> (y: ?) {
              init b = float32[6] {0.275720835, 0.387525588, -0.818464518, -0.763055444, -0.110042386, 0.664718807}
              init merge = int64[4] {1, 6, 4, 4}
              init split = int64[5] {1, 2, 3, 4, 4}
              init w = float32[6,1,3,3]
              y = com.loom.FusedConv(x, w, b) {group=6, input_channels=[0, 3, 1, 4, 2, 5], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]}
              return y
            }
            """, folded);
    }

    [Fact]
    public void NotWhenAnIntermediateIsReadElsewhereOrTheConvolutionIsNotDepthwise()
    {
        var shared = Inferred(Shuffled(6, 2, 4, 1, extraReader: "t"));
        Assert.Same(shared, FoldChannelShuffle.Run(shared));
        var grouped = Inferred(Shuffled(6, 2, 4, 1, convGroup: 2));
        Assert.Same(grouped, FoldChannelShuffle.Run(grouped));
    }

    public static TheoryData<string, int> SetsAndThreads() => ConvFastPathTests.SetsAndThreads();

    [Theory, MemberData(nameof(SetsAndThreads))]
    public void MatchesOnnxRuntimeRunningTheShuffle(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        // ShuffleNet's shapes, smaller: 28×28 and 7×7 planes (the wide kernels' full and short rows), strides 1 and 2, 4 groups.
        foreach (var (c, size, stride) in new[] { (24, 28, 1), (24, 28, 2), (48, 7, 1), (12, 9, 2) })
        {
            var model = M(Shuffled(c, 4, size, stride), opset: 13);
            var x = Tensor.FromArray(ConvFastPathTests.Random(c * size * size, c + size), 1, c, size, size);
            var expected = OrtOracle.Run(OnnxExporter.ToBytes(model), new Dictionary<string, Tensor> { ["x"] = x })["y"];
            var options = new LoomSessionOptions { IntraOpThreads = threads };
            using var session = LoomSession.Create(model, options);
            Assert.Contains(session.Model.Graph.Nodes, n => n.OpType == "FusedConv" && n.GetInts("input_channels") is not null);
            Assert.DoesNotContain(session.Model.Graph.Nodes, n => n.OpType == "Transpose");
            using var outputs = session.Run(("x", x));
            OrtOracle.AssertClose(expected.Data, expected.Shape, outputs.Tensor("y"), 1e-5, 1e-5, $"{set} {threads}T c {c} size {size} stride {stride}");
        }
    }

    [Theory, MemberData(nameof(SetsAndThreads))]
    public void AGroupedFusedConvReadsItsChannelMapToo(string set, int threads)
    {
        // input_channels on a convolution the depthwise kernels do not take (group 2): the mapped copy first, then the GEMM path.
        using var _ = ConvFastPathTests.Force(set);
        int c = 8, size = 10;
        var r = new Random(5);
        var w = Tensor.FromArray(Enumerable.Range(0, c * 4 * 9).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray(), c, 4, 3, 3);
        var x = Tensor.FromArray(ConvFastPathTests.Random(c * size * size, 9), 1, c, size, size);
        long[] map = [0, 4, 1, 5, 2, 6, 3, 7];
        Attr[] conv = [Attr.Int("group", 2), Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("pads", [1, 1, 1, 1])];
        var permuted = Tensor.FromArray(Enumerable.Range(0, c).SelectMany(j => x.ToArray<float>().Skip((int)map[j] * size * size).Take(size * size)).ToArray(),
            1, c, size, size);
        var plain = M(new Graph("main", [V("x", $"float32[1,{c},{size},{size}]")], [V("y")], [N("Conv", ["x", "w"], ["y"], conv)],
            new Dictionary<string, Tensor> { ["w"] = w }), opset: 13);
        var expected = OrtOracle.Run(OnnxExporter.ToBytes(plain), new Dictionary<string, Tensor> { ["x"] = permuted })["y"];
        var fusedNode = new Node("FusedConv", ["x", "w"], ["y"], [.. conv, Attr.Ints("input_channels", map)], "", FuseConvActivation.Domain);
        var fused = new Model(new Graph("main", [V("x", $"float32[1,{c},{size},{size}]")], [V("y")], [fusedNode], new Dictionary<string, Tensor> { ["w"] = w }),
            new Dictionary<string, int> { [""] = 13, [FuseConvActivation.Domain] = 1 }, 8);
        using var session = LoomSession.Create(fused, new LoomSessionOptions { IntraOpThreads = threads });
        using var outputs = session.Run(("x", x));
        OrtOracle.AssertClose(expected.Data, expected.Shape, outputs.Tensor("y"), 1e-5, 1e-5, $"{set} {threads}T");
    }
}
