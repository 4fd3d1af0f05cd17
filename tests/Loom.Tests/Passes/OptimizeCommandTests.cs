using Loom.Import.Onnx;
using Loom.Passes;
using Loom.Tests.Cli;
using Loom.Tests.Support;

namespace Loom.Tests.Passes;

/// <summary><c>loom optimize</c>, run as its own process.</summary>
public sealed class OptimizeCommandTests
{
    [Fact]
    public void WritesTheOptimizedModelAndPrintsNodeCountsPerPass()
    {
        using var dir = new TempDir();
        OnnxExporter.Save(PassPipelineTests.Mixed(), dir.File("mixed.onnx"));
        var (exit, output, err) = CliTests.Loom("optimize", dir.File("mixed.onnx"), "-o", dir.File("out.onnx"), "--level", "2");
        Assert.True(exit == 0, err + output);
        Assert.Matches(@"common-subexpression-elimination\s+20 -> \d+", output); // the first pass sees all 20 nodes
        Assert.Contains("nodes: 20 -> 7", output);

        var x = OrtOracle.RandomInput(2, 2, 4);
        using var original = LoomSession.Load(dir.File("mixed.onnx"), new LoomSessionOptions { OptimizationLevel = 0 });
        using var optimized = LoomSession.Load(dir.File("out.onnx"), new LoomSessionOptions { OptimizationLevel = 0 });
        Assert.Equal(7, PassPipeline.CountNodes(optimized.Model.Graph));
        using var expected = original.Run(("x", x));
        using var actual = optimized.Run(("x", x));
        Assert.Equal(expected.Tensor("y").ToArray<float>(), actual.Tensor("y").ToArray<float>());
    }

    [Fact]
    public void ALevelOutOfRangeIsAnError()
    {
        var (exit, _, err) = CliTests.Loom("optimize", "model.onnx", "-o", "out.onnx", "--level", "7");
        Assert.Equal(1, exit);
        Assert.Contains("--level 7", err);
    }
}
