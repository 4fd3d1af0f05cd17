using Loom.Import.Onnx;
using Loom.Tests.Support;

namespace Loom.Tests.Models;

public sealed class ExampleModelTests
{
    private static string ExamplePath => Path.Combine(SharedData.RepoRoot, "examples", "tiny-cnn.onnx");

    /// <summary>The committed file is exactly what the generator writes, so its provenance is this code.</summary>
    [Fact]
    public void BundledExampleIsReproducible()
    {
        var bytes = OnnxExporter.ToBytes(ExampleModel.TinyCnn());
        if (Environment.GetEnvironmentVariable("LOOM_WRITE_EXAMPLES") == "1") File.WriteAllBytes(ExamplePath, bytes);
        Assert.Equal(bytes, File.ReadAllBytes(ExamplePath));
    }

    [Fact]
    public void BundledExampleMatchesOnnxRuntimeAtSeveralBatchSizes()
    {
        using var session = LoomSession.Load(ExamplePath, new LoomSessionOptions { VerifyInferredShapes = true });
        foreach (var batch in new[] { 1, 4 })
        {
            var x = OrtOracle.RandomInput(batch, batch, 1, 28, 28);
            var expected = OrtOracle.Run(File.ReadAllBytes(ExamplePath), new Dictionary<string, Tensor> { ["image"] = x });
            using var actual = session.Run(("image", x));
            var (data, shape) = expected["probabilities"];
            OrtOracle.AssertClose(data, shape, actual.Tensor("probabilities"), 1e-4, 1e-6, $"batch {batch}");
        }
    }
}
