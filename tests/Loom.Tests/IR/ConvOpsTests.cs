using Loom.IR;

namespace Loom.Tests.IRTests;

/// <summary>
/// ConvOps, the one list of convolution operators the cost model, shape rules, folding and scheduling share: each operator
/// classified as the ONNX spec and Loom's fused forms define it (transposed: W is [C, M/group, k…]; QLinearConv: W is input 3).
/// </summary>
public sealed class ConvOpsTests
{
    [Theory]
    //          op,                   convolution, quantized, transposed, forward, weight input
    [InlineData("Conv", true, false, false, true, 1)]
    [InlineData("ConvTranspose", true, false, true, false, 1)]
    [InlineData("FusedConv", true, false, false, true, 1)]
    [InlineData("FusedConvTranspose", true, false, true, false, 1)]
    [InlineData("ConvInteger", false, true, false, false, 1)]
    [InlineData("QLinearConv", false, true, false, false, 3)]
    [InlineData("DeformConv", false, false, false, false, 1)]
    [InlineData("MatMul", false, false, false, false, 1)]
    [InlineData("Relu", false, false, false, false, 1)]
    public void ClassifiesByOpType(string op, bool convolution, bool quantized, bool transposed, bool forward, int weightInput)
    {
        Assert.Equal(convolution, ConvOps.IsConvolution(op));
        Assert.Equal(quantized, ConvOps.IsQuantized(op));
        Assert.Equal(convolution || quantized, ConvOps.IsAnyConvolution(op));
        Assert.Equal(transposed, ConvOps.IsTransposed(op));
        Assert.Equal(forward, ConvOps.IsForward(op));
        if (convolution || quantized) Assert.Equal(weightInput, ConvOps.WeightInput(op));
    }

    [Theory]
    [InlineData("Conv", "", true)]
    [InlineData("FusedConv", "com.loom", true)]
    [InlineData("Conv", "ai.onnx", true)]            // the default domain under its explicit name
    [InlineData("Conv", "com.loom", false)]          // each form only in its own domain
    [InlineData("FusedConv", "", false)]
    [InlineData("ConvTranspose", "", false)]         // transposed: not a forward convolution
    [InlineData("FusedConvTranspose", "com.loom", false)]
    [InlineData("Relu", "", false)]
    public void ForwardNodeChecksTheDomain(string op, string domain, bool expected) =>
        Assert.Equal(expected, ConvOps.IsForward(new Node(op, ["x", "w"], ["y"], domain: domain)));

    [Fact]
    public void FusedFormsAreInLoomsDomain() => Assert.Equal("com.loom", ConvOps.LoomDomain);
}
