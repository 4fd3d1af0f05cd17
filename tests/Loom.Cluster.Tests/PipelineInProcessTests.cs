using System.Collections.Concurrent;
using Loom.Cluster.Pipelines;

namespace Loom.Cluster.Tests;

/// <summary>
/// Model pipelines across three in-process silos: outputs equal a plain session's run of each input; a silo
/// holding a stage killed mid-stream leaves every input with exactly one output, still equal.
/// </summary>
public class PipelineInProcessTests(InProcessCluster fixture) : IClassFixture<InProcessCluster>
{
    [Fact]
    public async Task A_three_stage_pipeline_gives_every_input_the_output_of_a_plain_session()
    {
        string model = PipelineData.Light("squeezenet");
        var items = PipelineData.Items(model, 6);
        var expected = PipelineData.Expected(model, items);
        // 64 KiB chunks: the 588 KiB input and the tensors crossing the cuts travel in several messages.
        await using var pipeline = await ClusterPipeline.StartAsync(fixture.Cluster.Client, new PipelineRequest(model, 3, Window: 3, MaxChunkBytes: 64 << 10));
        var plan = pipeline.Plan;
        Assert.Equal(3, plan.Stages.Count);
        Assert.Equal(3, plan.Stages.Select(s => s.Silo).Distinct().Count()); // one stage per silo
        Assert.Equal(0, plan.Stages[0].First);
        Assert.Equal(plan.Nodes, plan.Stages[^1].End);
        for (int s = 1; s < 3; s++) Assert.Equal(plan.Stages[s - 1].End, plan.Stages[s].First);
        Assert.All(plan.Silos, p => Assert.True(p.Seconds > 0 && p.Slowdown > 0, $"silo {p.Name} probed {p.Seconds} s"));

        var outputs = new ConcurrentDictionary<long, (string Name, Tensor Value)[]>();
        var order = new List<long>();
        var result = await pipeline.RunAsync(items, (seq, o) => { Assert.True(outputs.TryAdd(seq, o)); order.Add(seq); });
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), order); // in input order, once each
        Assert.Equal(6, result.Items);
        Assert.Equal(0, result.Replacements);
        Assert.True(result.BytesSent > 6 * 3 * 224 * 224 * 4, $"{result.BytesSent} bytes sent");
        Assert.All(result.Stages, s => Assert.Equal(6, s.Items));
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(expected[i].Keys.Order(), outputs[i].Select(o => o.Name).Order());
            foreach (var (name, t) in outputs[i]) PipelineData.AssertClose(expected[i][name], t, $"item {i} output {name}");
        }
    }
}
