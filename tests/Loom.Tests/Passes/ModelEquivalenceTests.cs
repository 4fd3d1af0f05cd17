using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Passes;
using Loom.Tests.Models;
using Loom.Tests.Support;

namespace Loom.Tests.Passes;

/// <summary>
/// Real architectures optimized at levels 1 and 2 compute what they computed before: in Loom (optimized
/// session against an unoptimized one) and in ONNX Runtime (the saved optimized model against the
/// original), within float rounding (rtol 1e-4). The light models get random weights (a constant weight
/// would hide a wrongly folded channel); the PaddleOCR models run as exported. (They need the Conv,
/// pooling, Gemm, Reshape and Softmax kernels of the operator branches.)
/// </summary>
public sealed class ModelEquivalenceTests
{
    private const double Rtol = 1e-4, Atol = 1e-5;

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        string[] models = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet", "squeezenet",
            "vgg19", "zfnet512", "ch_ppocr_mobile_v2.0_cls_infer", "ch_PP-OCRv4_det_infer"];
        foreach (var name in models)
            foreach (var level in new[] { 1, 2 }) data.Add(name, level);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void OptimizedModelComputesTheSame(string name, int level)
    {
        var (model, x) = Load(name);
        var bytes = OnnxExporter.ToBytes(model);
        var optimized = PassPipeline.ForLevel(level).Run(model);
        Assert.True(PassPipeline.CountNodes(optimized.Graph) <= PassPipeline.CountNodes(model.Graph));
        var input = model.Graph.RequiredInputs.Single().Name;

        using var plain = LoomSession.Load(bytes, new LoomSessionOptions { OptimizationLevel = 0 });
        using var fast = LoomSession.Load(bytes, new LoomSessionOptions { OptimizationLevel = level, VerifyInferredShapes = true });
        using var expected = plain.Run((input, x));
        using var actual = fast.Run((input, x));
        foreach (var (output, value) in expected)
        {
            var t = (Tensor)value;
            OrtOracle.AssertClose(t.ToArray<float>(), t.Shape.ToArray(), actual.Tensor(output), Rtol, Atol, $"{name} level {level} in Loom, output {output}");
        }

        var feeds = new Dictionary<string, Tensor> { [input] = x };
        var ortExpected = OrtOracle.Run(bytes, feeds);
        var ortActual = OrtOracle.Run(OnnxExporter.ToBytes(optimized), feeds);
        foreach (var (output, (data, shape)) in ortExpected)
        {
            var (optData, optShape) = ortActual[output];
            OrtOracle.AssertClose(data, shape, Tensor.FromArray(optData, optShape), Rtol, Atol, $"{name} level {level} in ONNX Runtime, output {output}");
        }
    }

    /// <summary>The model (light ones with random weights) and an input for it.</summary>
    private static (Model, Tensor) Load(string name)
    {
        if (name.StartsWith("ch_", StringComparison.Ordinal))
        {
            var model = OnnxImporter.Load(SharedData.Require("models", name + ".onnx"));
            return (model, OrtOracle.RandomInput(seed: 1, 1, 3, 64, 192));
        }
        var path = SharedData.Require("onnx-backend-tests", "light", $"light_{name}.onnx");
        var light = LightModelsRandomWeightsTests.WithRandomWeights(OnnxImporter.Load(path), seed: name.Length);
        var info = light.Graph.RequiredInputs.Single();
        return (light, ConformanceRunner.DeterministicInput(new ValueMetadata(info.Name, info.Type), _ => 1));
    }
}
