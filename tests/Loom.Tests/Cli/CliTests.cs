using Loom.Tests.Support;

namespace Loom.Tests.Cli;

/// <summary>The <c>loom</c> command, run as its own process the way a user runs it.</summary>
public sealed class CliTests
{
    private static string Example => Path.Combine(SharedData.RepoRoot, "examples", "tiny-cnn.onnx");

    internal static (int Exit, string Out, string Err) Loom(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void InspectShowsSymbolicAndConcreteShapes()
    {
        var (exit, output, err) = Loom("inspect", Example);
        Assert.True(exit == 0, err);
        Assert.Contains("float32[batch,1,28,28]", output);
        Assert.Contains("float32[batch,10]", output);
        Assert.Contains("parameters: 9,098", output);

        (exit, output, err) = Loom("inspect", Example, "--dim", "batch=8");
        Assert.True(exit == 0, err);
        Assert.Contains("float32[8,1,28,28]", output);
        Assert.Contains("float32[8,10]", output);
    }

    [Fact]
    public void RunWritesNpyOutputsThatMatchTheLibrary()
    {
        using var dir = new TempDir();
        var input = OrtOracle.RandomInput(3, 2, 1, 28, 28);
        Npy.Write(input, dir.File("image.npy"));
        var (exit, output, err) = Loom("run", Example, "--input", $"image={dir.File("image.npy")}", "--out", dir.Path);
        Assert.True(exit == 0, err + output);
        var written = Npy.Read(dir.File("probabilities.npy"));

        using var session = LoomSession.Load(Example);
        using var expected = session.Run(("image", input));
        Assert.Equal(expected.Tensor("probabilities").ToArray<float>(), written.ToArray<float>());
    }

    [Fact]
    public void RunWithRepeatPrintsLatency()
    {
        var (exit, output, err) = Loom("run", Example, "--dim", "batch=2", "--repeat", "5");
        Assert.True(exit == 0, err);
        Assert.Matches(@"latency: median \d+\.\d+ ms, min \d+\.\d+ ms", output);
        Assert.Contains("probabilities: float32[2,10]", output);
    }

    [Fact]
    public void BadInputGivesOneLineErrorAndExitCode()
    {
        var (exit, _, err) = Loom("run", Example, "--input", "nope=x.npy");
        Assert.Equal(1, exit);
        Assert.Contains("no input 'nope'", err);
        Assert.DoesNotContain("   at ", err); // a message, not a stack trace
    }

    [Fact]
    public void ConformancePrintsTheSummaryLineLast()
    {
        var dir = SharedData.Require("onnx-backend-tests", "node", "test_relu");
        var (_, output, _) = Loom("conformance", dir);
        var last = output.TrimEnd().Split('\n')[^1];
        Assert.Matches(@"^\d+ passed, \d+ failed, \d+ skipped$", last);
    }
}
