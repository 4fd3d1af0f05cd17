using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Tests.Support;

namespace Loom.Tests.Models;

/// <summary>
/// The light architectures (ResNet-50, Inception, DenseNet, …) come with every weight a constant, which
/// says little about accuracy. Here each constant-shaped weight (a ConstantOfShape node) becomes a random
/// initializer, and Loom must match ONNX Runtime on the same input (rtol 1e-3, atol 1e-4).
/// </summary>
public sealed class LightModelsRandomWeightsTests
{
    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        foreach (var name in new[] { "bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet", "squeezenet", "vgg19", "zfnet512" })
            data.Add(name);
        return data;
    }

    [Theory, MemberData(nameof(Models))]
    public void MatchesOnnxRuntimeWithRandomWeights(string name)
    {
        var path = SharedData.Require("onnx-backend-tests", "light", $"light_{name}.onnx");
        var model = WithRandomWeights(OnnxImporter.Load(path), seed: name.Length);
        var bytes = OnnxExporter.ToBytes(model);

        using var session = LoomSession.Load(bytes, new LoomSessionOptions { VerifyInferredShapes = true });
        var input = session.Inputs.Single();
        var x = ConformanceRunner.DeterministicInput(input, _ => 1);
        var expected = OrtOracle.Run(bytes, new Dictionary<string, Tensor> { [input.Name] = x });
        using var actual = session.Run((input.Name, x));
        foreach (var (output, (data, shape)) in expected)
            OrtOracle.AssertClose(data, shape, actual.Tensor(output), 1e-3, 1e-4, $"{name} output {output}");
    }

    /// <summary>Replaces every ConstantOfShape whose shape is an initializer by a random initializer of that shape.</summary>
    public static Model WithRandomWeights(Model model, int seed)
    {
        var rng = new Random(seed);
        var g = model.Graph;
        var inits = g.Initializers.ToDictionary();
        var nodes = new List<Node>();
        foreach (var n in g.Nodes)
        {
            if (n.OpType != "ConstantOfShape" || !g.Initializers.TryGetValue(n.Inputs[0], out var shapeTensor)
                || (n.GetAttribute("value")?.AsTensor().DataType ?? DataType.Float) != DataType.Float)
            {
                nodes.Add(n);
                continue;
            }
            var shape = shapeTensor.ToArray<long>().Select(d => (int)d).ToArray();
            var values = new float[ShapeMath.Size(shape)];
            // Weights (rank >= 2) get a fan-in-scaled symmetric range so activations stay bounded through
            // dozens of layers; vectors (biases, BatchNorm scale/mean/variance) stay positive so variances are valid.
            double fanIn = shape.Length >= 2 ? shape.Skip(1).Aggregate(1.0, (a, b) => a * b) : 1;
            for (int i = 0; i < values.Length; i++)
                values[i] = shape.Length >= 2 ? (float)((rng.NextDouble() * 2 - 1) * Math.Sqrt(3 / fanIn)) : (float)(0.5 + rng.NextDouble());
            inits[n.Outputs[0]] = Tensor.FromArray(values, shape);
        }
        return model.WithGraph(new Graph(g.Name, g.Inputs, g.Outputs, nodes, inits));
    }
}
