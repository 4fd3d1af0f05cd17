using Loom.Inference;
using Loom.IR;
using Attribute = Loom.IR.Attribute;

namespace Loom.Tests.InferenceTests;

/// <summary>FLOP counts of convolutions against hand-computed values: a multiply-add is two operations, a bias one per output.</summary>
public sealed class FlopCounterTests
{
    private static Graph One(Node node, TensorType x, Dictionary<string, Tensor> weights)
    {
        var g = new Graph("g", [new ValueInfo("x", x)], [new ValueInfo("y", null)], [node], weights);
        return ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 })).Graph;
    }

    private static long Count(Graph g) => FlopCounter.Count(g.Nodes[0], g, _ => null)!.Value;

    [Theory]
    [InlineData(false), InlineData(true)]
    public void ConvCountsEachOutputsProductsAndItsBias(bool bias)
    {
        // x[1,3,8,8], W[4,3,3,3], pads 1: y[1,4,8,8] = 256 outputs of 27 multiply-adds each.
        var weights = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(new float[4 * 3 * 3 * 3], 4, 3, 3, 3), ["b"] = Tensor.FromArray(new float[4], 4) };
        var conv = new Node("Conv", bias ? ["x", "w", "b"] : ["x", "w"], ["y"], [Attribute.Ints("pads", [1, 1, 1, 1])]);
        Assert.Equal(2L * 256 * 27 + (bias ? 256 : 0), Count(One(conv, new TensorType(DataType.Float, Shape.Of(1, 3, 8, 8)), weights)));
    }

    [Theory]
    [InlineData(false), InlineData(true)]
    public void ConvTransposeCountsEachInputsProductsAndOneBiasAddPerOutput(bool bias)
    {
        // x[1,4,5,5], W[4,2,2,2], stride 2: each of the 100 inputs scatters 2·2·2 = 8 multiply-adds; y[1,2,10,10] = 200 outputs.
        var weights = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(new float[4 * 2 * 2 * 2], 4, 2, 2, 2), ["b"] = Tensor.FromArray(new float[2], 2) };
        var deconv = new Node("ConvTranspose", bias ? ["x", "w", "b"] : ["x", "w"], ["y"], [Attribute.Ints("strides", [2, 2])]);
        Assert.Equal(2L * 100 * 8 + (bias ? 200 : 0), Count(One(deconv, new TensorType(DataType.Float, Shape.Of(1, 4, 5, 5)), weights)));
    }
}
