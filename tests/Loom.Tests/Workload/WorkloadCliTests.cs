using Loom.Tests.Support;
using Loom.Workload.Chakra;

namespace Loom.Tests.WorkloadTests;

/// <summary><c>loom workload</c> as a user runs it.</summary>
public sealed class WorkloadCliTests
{
    [Fact]
    public void WritesOneChakraAndOneJsonFilePerRankAndASummary()
    {
        var model = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        using var dir = new TempDir();
        var (exit, stdout, stderr) = CliRunner.Run("workload", model, "--dp", "2", "--pp", "2", "--train", "--dim", "batch=8", "--out", dir.Path);
        Assert.True(exit == 0, stderr);
        Assert.Contains("samples/s", stdout);
        for (int r = 0; r < 4; r++)
        {
            var back = ChakraTrace.Read(Path.Combine(dir.Path, $"workload.{r}.et"));
            Assert.Equal(r, back.Rank);
            Assert.True(File.Exists(Path.Combine(dir.Path, $"workload.{r}.json")));
        }
        Assert.True(File.Exists(Path.Combine(dir.Path, "summary.json")));
    }

    [Fact]
    public void BadStrategyIsAOneLineError()
    {
        var model = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        var (exit, _, stderr) = CliRunner.Run("workload", model, "--dp", "3", "--dim", "batch=8");
        Assert.Equal(1, exit);
        Assert.Contains("does not split", stderr);
    }

    [Fact]
    public void ValidateSaysWhichClockAndWritesEveryNode()
    {
        if (!OperatingSystem.IsLinux()) return; // the thread clock
        var model = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        using var dir = new TempDir();
        var (exit, stdout, stderr) = CliRunner.Run("workload", "validate", model, "--threads", "1", "--runs", "1", "--top", "0",
            "--nodes", Path.Combine(dir.Path, "nodes-{T}.csv"));
        Assert.True(exit == 0, stderr);
        Assert.Contains("thread CPU", stdout);
        Assert.Contains("load avg", stdout);
        var rows = File.ReadAllLines(Path.Combine(dir.Path, "nodes-1.csv"));
        Assert.Equal("node,op,path,macs,bytes,simulated_ms,measured_ms", rows[0]);
        Assert.Contains(rows, r => r.Contains(",FusedConv,ConvPointwise,", StringComparison.Ordinal));
        Assert.True(File.ReadAllLines(Path.Combine(dir.Path, "nodes-probes1.csv")).Length > 50); // every probe node is a sample
    }
}
