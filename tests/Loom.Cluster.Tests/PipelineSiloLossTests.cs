using Loom.Cluster.Pipelines;

namespace Loom.Cluster.Tests;

/// <summary>
/// A silo holding a stage killed mid-stream on an in-process cluster: the stage is placed again, the items it had
/// not acknowledged are replayed, and every input gets exactly one output, equal to a plain session's.
/// </summary>
public class PipelineSiloLossTests
{
    private const int Items = 24;

    [Fact]
    public async Task Killing_a_stage_silo_mid_stream_gives_every_input_exactly_one_output()
    {
        string model = PipelineData.Light("squeezenet");
        var items = PipelineData.Items(model, Items);
        var expected = PipelineData.Expected(model, items);
        await using var cluster = new InProcessCluster();
        await cluster.InitializeAsync();
        await using var pipeline = await ClusterPipeline.StartAsync(cluster.Cluster.Client, new PipelineRequest(model, 3, Window: 4, MaxChunkBytes: 128 << 10));
        // The silo of the middle stage, if it is a secondary (the primary holds TestingHost's membership); else another secondary's stage.
        var stageSilos = pipeline.Plan.Stages.Select(s => pipeline.Plan.Silos.First(p => p.Name == s.Silo).Address).ToList();
        var victim = cluster.Cluster.SecondarySilos.OrderBy(h => stageSilos.IndexOf(h.SiloAddress.ToParsableString()) == 1 ? 0 : 1)
            .First(h => stageSilos.Contains(h.SiloAddress.ToParsableString()));

        // The sink blocks at the 6th output until the silo is dead: items 6.. are then in flight or not yet
        // admitted, and every one of them still has to pass the victim's stage — a re-placement cannot be missed.
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = new ManualResetEventSlim();
        var counts = new int[Items];
        var outputs = new (string Name, Tensor Value)[Items][];
        var run = pipeline.RunAsync(items, (seq, o) =>
        {
            counts[seq]++;
            outputs[seq] = o;
            if (seq == 5)
            {
                reached.SetResult();
                Assert.True(killed.Wait(TimeSpan.FromMinutes(1)), "the silo was not killed");
            }
        });
        await reached.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await cluster.Cluster.KillSiloAsync(victim);
        killed.Set();
        var result = await run.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(Items, result.Items);
        Assert.All(counts, c => Assert.Equal(1, c));
        Assert.True(result.Replacements >= 1, "the victim's stage was placed again");
        Assert.True(result.Replayed >= 1, "items were replayed to the new placement");
        Assert.Contains(result.Stages, s => s.Silos.Contains("->"));
        for (int i = 0; i < Items; i++)
            foreach (var (name, t) in outputs[i]) PipelineData.AssertClose(expected[i][name], t, $"item {i} output {name}");
    }
}
