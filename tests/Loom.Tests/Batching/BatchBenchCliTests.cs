using Loom.Tests.Support;

namespace Loom.Tests.BatchingTests;

/// <summary><c>loom batch-bench</c> as a user runs it: the rival's line, then kernel calls and bytes copied; clear errors.</summary>
public class BatchBenchCliTests
{
    [Fact]
    public void PrintsTheRivalsLineAndKernelCalls()
    {
        var trees = SharedData.Require("data", "sst", "train.txt");
        using var dir = new TempDir();
        var (exit, output, err) = CliRunner.Run(["batch-bench", "--trees", trees, "--hidden", "16", "--per-forward", "8", "--count", "32",
            "--batching", "static", "--mode", "node", "--seconds", "0.2", "--trace", dir.File("static.json")]);
        Assert.True(exit == 0, err + output);
        Assert.Matches(@"^treelstm hidden 16 per-forward 8 batching static mode node: [0-9.]+ trees/s \([0-9.]+ ms per forward\), nodes \d+\r?\n", output);
        var calls = System.Text.RegularExpressions.Regex.Match(output, @"kernel calls (\d+) per forward \(lower bound \1\), bytes copied \d+ per forward");
        Assert.True(calls.Success, output);
        // The trace holds one event per batch of the first forward.
        Assert.Equal(int.Parse(calls.Groups[1].Value), TraceEvents(dir.File("static.json")));

        (exit, output, err) = CliRunner.Run(["batch-bench", "--trees", trees, "--hidden", "16", "--per-forward", "8", "--count", "32",
            "--batching", "agenda", "--seconds", "0.2", "--trace", dir.File("agenda.json")]);
        Assert.True(exit == 0, err + output);
        Assert.Contains("batching agenda mode root:", output);
        calls = System.Text.RegularExpressions.Regex.Match(output, @"kernel calls (\d+) per forward");
        Assert.Equal(int.Parse(calls.Groups[1].Value), TraceEvents(dir.File("agenda.json")));
    }

    private static int TraceEvents(string path)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("traceEvents").GetArrayLength();
    }

    [Fact]
    public void AMalformedTreeFileNamesItsLine()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.txt"), "(2 (3 a) (2 b))\n(2 (3 a) (2 b)\n");
        var (exit, _, err) = CliRunner.Run(["batch-bench", "--trees", dir.File("bad.txt"), "--count", "2", "--seconds", "0.1"]);
        Assert.Equal(1, exit);
        Assert.Contains("error: bad.txt:2:", err);
    }
}
