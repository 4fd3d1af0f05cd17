using Loom.Import.Onnx;
using Loom.IR;
using Loom.Tests.Support;
using static Loom.Tests.Passes.PassTestModels;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// Grouped 1×1 convolutions a few channels deep per group (<see cref="ConvPointwiseNarrow"/> on AVX-512, the GEMM or direct
/// paths on the other kernel sets) against ONNX Runtime: depths 1 to 8 and one past, plane sizes around the 16-wide vectors
/// and the 512-position blocks, two images, with bias, a residual Add and a Relu (fused by the session); one and two
/// threads give the same bits.
/// </summary>
public sealed class ConvPointwiseNarrowTests
{
    [Theory, MemberData(nameof(ConvFastPathTests.SetsAndThreads), MemberType = typeof(ConvFastPathTests))]
    public void GroupedPointwiseConvolutionsMatchOnnxRuntime(string set, int threads)
    {
        using var _ = ConvFastPathTests.Force(set);
        int seed = 0;
        // groups, depth per group, output channels per group, height, width
        foreach (var (groups, depth, mg, h, w) in new[] { (4, 6, 7, 12, 12), (2, 1, 5, 4, 4), (3, 8, 4, 17, 31), (1, 3, 9, 5, 7), (2, 5, 3, 1, 16), (2, 9, 4, 6, 6) })
        {
            int c = groups * depth, m = groups * mg;
            var r = new Random(++seed);
            float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
            var inits = new Dictionary<string, Tensor>
            {
                ["w"] = Tensor.FromArray(Rand(m * depth), m, depth, 1, 1),
                ["b"] = Tensor.FromArray(Rand(m), m),
            };
            var g = new Graph("main", [V("x", $"float32[2,{c},{h},{w}]"), V("z", $"float32[2,{m},{h},{w}]")], [V("y")],
            [
                N("Conv", ["x", "w", "b"], ["conv"], Attr.Int("group", groups), Attr.Ints("kernel_shape", [1, 1])),
                N("Add", ["conv", "z"], ["sum"]),
                N("Relu", ["sum"], ["y"]),
            ], inits);
            var model = M(g, opset: 13);
            var x = Tensor.FromArray(Rand(2 * c * h * w), 2, c, h, w);
            var z = Tensor.FromArray(Rand(2 * m * h * w), 2, m, h, w);
            var expected = OrtOracle.Run(OnnxExporter.ToBytes(model), new Dictionary<string, Tensor> { ["x"] = x, ["z"] = z })["y"];
            float[] Loom(int t)
            {
                using var session = LoomSession.Create(model, new LoomSessionOptions { IntraOpThreads = t });
                Assert.Contains(session.Model.Graph.Nodes, n => n.OpType == "FusedConv");
                using var outputs = session.Run(("x", x), ("z", z));
                return outputs.Tensor("y").ToArray<float>();
            }
            var y = Loom(threads);
            string what = $"{set} {threads}T groups {groups} depth {depth} out {mg} plane {h}x{w}";
            OrtOracle.AssertClose(expected.Data, expected.Shape, Tensor.FromArray(y, expected.Shape), 1e-5, 1e-5, what);
            if (threads > 1) Assert.True(Loom(1).SequenceEqual(y), $"{what}: one thread differs");
        }
    }
}
