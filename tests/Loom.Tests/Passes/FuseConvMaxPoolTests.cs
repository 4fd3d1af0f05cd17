using Loom.Inference;
using Loom.IR;
using Loom.Passes;
using static Loom.Tests.Passes.PassTestModels;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Passes;

/// <summary>
/// A stem's convolution and the 3×3 stride-2 max pool that alone reads it become com.loom FusedConvMaxPool; not when the
/// convolution's output has another reader or is a graph output, the pool's window is padded, or its Indices are used.
/// (The fused kernel's outputs: <c>Kernels.ConvMaxPoolFusedTests</c>.)
/// </summary>
public sealed class FuseConvMaxPoolTests
{
    private static Graph Stem(Attr[]? pool = null, string? extraReader = null, bool convOutput = false, bool indices = false)
    {
        var inits = new Dictionary<string, Tensor>
        {
            ["w"] = Tensor.FromArray(new float[4 * 3 * 9], 4, 3, 3, 3),
            ["b"] = Tensor.FromArray(new float[4], 4),
        };
        List<Node> nodes =
        [
            N("Conv", ["x", "w", "b"], ["c"], Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [2, 2])),
            N("MaxPool", ["c"], indices ? ["y", "i"] : ["y"], pool ?? [Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [2, 2])]),
        ];
        List<ValueInfo> outputs = [V("y")];
        if (extraReader is not null)
        {
            nodes.Add(N("Neg", [extraReader], ["other"]));
            outputs.Add(V("other"));
        }
        if (convOutput) outputs.Add(V("c"));
        if (indices) outputs.Add(V("i"));
        return new Graph("main", [V("x", "float32[1,3,23,23]")], outputs, nodes, inits);
    }

    [Fact]
    public void TheConvolutionAndItsPoolBecomeOneNode()
    {
        var fused = FuseConvMaxPool.Run(Inferred(Stem()));
        Assert.Contains(
            "y = com.loom.FusedConvMaxPool(x, w, b) {kernel_shape=[3, 3], pool_kernel_shape=[3, 3], pool_pads=[0, 0, 0, 0], pool_strides=[2, 2], strides=[2, 2]}",
            Text(fused));
        Assert.DoesNotContain("MaxPool(", Text(fused).Replace("FusedConvMaxPool(", ""));
        Assert.Equal(new[] { 1L, 4, 5, 5 }, ((TensorType)ShapeInference.Run(fused).Graph.TypeOf("y")!).Shape!.Dims.Select(d => d.Value ?? -1));
    }

    [Fact]
    public void NotWhenTheOutputIsReadElsewhereOrThePoolIsNotCovered()
    {
        foreach (var g in new[]
        {
            Stem(extraReader: "c"),
            Stem(convOutput: true),
            Stem(indices: true),
            Stem([Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [2, 2]), Attr.Ints("pads", [1, 1, 1, 1])]),
            Stem([Attr.Ints("kernel_shape", [3, 3]), Attr.Ints("strides", [2, 2]), Attr.Int("ceil_mode", 1)]),
            Stem([Attr.Ints("kernel_shape", [2, 2]), Attr.Ints("strides", [2, 2])]),
        })
        {
            var model = Inferred(g);
            Assert.Same(model, FuseConvMaxPool.Run(model));
        }
    }
}
