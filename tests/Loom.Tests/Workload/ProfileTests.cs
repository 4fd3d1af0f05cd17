using Loom.Workload;

namespace Loom.Tests.WorkloadTests;

/// <summary>Per-operator FLOPs and bytes at concrete dims, checked by hand.</summary>
public sealed class ProfileTests
{
    private static readonly Dictionary<string, long> NoDims = new();

    [Fact]
    public void MatMulAndReluFlopsAndBytesAtTheGivenBatch()
    {
        var p = ModelProfile.Analyze(TinyModels.Mlp(), NoDims, batch: 4);
        var mm0 = p.Ops.Single(o => o.Name == "mm0");
        Assert.Equal(2L * 4 * 8 * 8, mm0.Flops);              // [4,8]·[8,8]: 2·M·N·K
        Assert.Equal(4L * 8 * 4, mm0.ActivationInputBytes);     // x: 32 floats
        Assert.Equal(8L * 8 * 4, mm0.ConstantInputBytes);       // W0
        Assert.Equal(4L * 8 * 4, mm0.OutputBytes);
        Assert.Equal(4 * 16, p.Ops.Single(o => o.Name == "relu1").Flops); // one per element of [4,16]
        Assert.Equal(1536, p.ParameterBytes);
        Assert.Equal(384, p.ParameterCount);
    }

    [Fact]
    public void ConvFlopsCountMultiplyAddsAndBias()
    {
        var p = ModelProfile.Analyze(TinyModels.Conv(), NoDims);
        var conv = Assert.Single(p.Ops);
        Assert.Equal(2L * 256 * 27 + 256, conv.Flops);
        Assert.Equal((108 + 4) * 4, conv.ParamBytes);
        Assert.True(conv.IsWeightProduct);
    }

    [Fact]
    public void ALiteralBatchScalesActivationsButNotParameters()
    {
        var one = Assert.Single(ModelProfile.Analyze(TinyModels.Conv(), NoDims).Ops);
        var eight = Assert.Single(ModelProfile.Analyze(TinyModels.Conv(), NoDims, batch: 8).Ops);
        Assert.Equal(8 * one.Flops, eight.Flops);
        Assert.Equal(8 * one.OutputBytes, eight.OutputBytes);
        Assert.Equal(one.ParamBytes, eight.ParamBytes);
        Assert.Equal(8, eight.OutputDims[0][0]);
    }

    [Fact]
    public void BackwardOfAWeightProductIsTwoProductsOfTheSameSize()
    {
        var mm = ModelProfile.Analyze(TinyModels.Mlp(), NoDims, batch: 4).Ops.Single(o => o.Name == "mm1");
        Assert.Equal(mm.Flops, BackwardRules.InputGradFlops(mm));
        Assert.Equal(mm.Flops, BackwardRules.WeightGradFlops(mm));
        var conv = Assert.Single(ModelProfile.Analyze(TinyModels.Conv(), NoDims).Ops);
        Assert.Equal(2L * 256 * 27, BackwardRules.InputGradFlops(conv));          // no bias term in dX
        Assert.Equal(2L * 256 * 27 + 256, BackwardRules.WeightGradFlops(conv));   // dW plus the bias gradient's sum
    }

    [Fact]
    public void ConstantOfShapeWeightsAreParametersNotWork()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_resnet50.onnx");
        var p = ModelProfile.Analyze(Loom.Import.Onnx.OnnxImporter.Load(path), NoDims);
        Assert.DoesNotContain(p.Ops, o => o.Op == "ConstantOfShape");
        Assert.Equal(25_557_032, p.ParameterCount); // ResNet-50's published parameter count
        Assert.Equal(53, p.Ops.Count(o => o.Op == "Conv"));
    }
}
