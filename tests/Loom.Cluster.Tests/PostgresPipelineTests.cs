using System.Diagnostics;
using System.Text.RegularExpressions;
using Loom.Cluster.Tests.Support;
using Loom.Tests.Support;

namespace Loom.Cluster.Tests;

/// <summary>
/// A pipeline of light ResNet-50 over 64 inputs across the three `loom silo` processes, the silo of its middle stage
/// SIGKILLed mid-stream: every input has exactly one output, equal to a plain session's run of it.
/// </summary>
public partial class PostgresClusterTests
{
    private const int PipelineInputs = 64;

    [Fact]
    public async Task A_pipeline_whose_stage_silo_is_killed_mid_stream_gives_every_input_one_output()
    {
        cluster.RequirePostgres();
        string model = PipelineData.Light("resnet50");
        await cluster.EnsureSilos(3);
        using var dir = new TempDir();
        string outDir = dir.File("out");
        using var client = new ClientProcess("stream", model, "--cluster", cluster.ConnectionString, "--stages", "3", "--inputs", PipelineInputs.ToString(),
            "--window", "6", "--chunk-bytes", "262144", "--out", outDir);
        var items = PipelineData.Items(model, PipelineInputs);
        var oracle = Task.Run(() => PipelineData.Expected(model, items)); // meanwhile: silos probe and load the model

        // Kill the silo of stage 1 once 8 of 64 outputs are out: the 56 items after them must all still pass stage 1,
        // so the kill cannot land "between" its work — the stage has to be placed again.
        WaitFor(() => client.Err.Contains($"8/{PipelineInputs} outputs"), client, "8 outputs");
        string victimName = StageSilo().Match(client.Out).Groups[1].Value;
        var victim = cluster.Silos.Single(s => s.Name == victimName);
        victim.Kill();
        int exit = client.Wait(TimeSpan.FromMinutes(4));
        string log = client.Out + "\n" + client.Err;
        TestContext.Current.TestOutputHelper?.WriteLine($"killed {victimName}:\n{log}");
        Assert.True(exit == 0, log);
        Assert.Contains($"{PipelineInputs}/{PipelineInputs} outputs", client.Err);
        Assert.Matches(@"[1-9]\d* stage\(s\) placed again, [1-9]\d* item call\(s\) replayed", client.Out);
        // Either the client sees the silo leave membership first, or Orleans has already activated the stage's grain
        // afresh elsewhere and that activation answers it holds no stage: both mean stage 1 was placed again.
        Assert.Matches($@"stage 1: its (silo is lost|grain lost the stage) \(silo {Regex.Escape(victimName)}\); placed again on silo ", client.Err);

        var expected = await oracle;
        var files = Directory.GetFiles(outDir).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(PipelineInputs * expected[0].Count, files.Count); // one file per (input, output): none missing
        for (int i = 0; i < PipelineInputs; i++)
            foreach (var (name, e) in expected[i])
                PipelineData.AssertClose(e, Npy.Read(Path.Combine(outDir, $"item-{i:D5}.{FileName(name)}.npy")), $"item {i} output {name}");
    }

    /// <summary>An output's name as `loom stream --out` writes it (letters, digits, '_' and '-'; others become '_').</summary>
    private static string FileName(string output) => string.Concat(output.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' ? c : '_'));

    [GeneratedRegex(@"^  stage1: nodes \d+\.\.\d+ on (\S+),", RegexOptions.Multiline)]
    private static partial Regex StageSilo();
}
