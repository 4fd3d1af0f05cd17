using Loom.Cluster.Hosting;
using Loom.Cluster.Scoring;
using Loom.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Loom.Cluster.Tests;

/// <summary>
/// A model that loads on two silos and not on the third — that silo runs with <c>--max-model-bytes</c> below the
/// model's size — stops the scoring job with an error naming that silo, and writes no output.
/// </summary>
public class OneSiloModelLimitTests
{
    private const string Limited = "Secondary_1";

    private sealed class LimitedCluster : InProcessCluster
    {
        protected override void Configure(TestClusterBuilder builder) => builder.AddSiloBuilderConfigurator<LimitOneSilo>();
    }

    /// <summary>Gives silo <see cref="Limited"/> a 100-byte model limit, as `loom silo --max-model-bytes 100` would.</summary>
    private sealed class LimitOneSilo : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) =>
            silo.Services.AddSingleton(sp => sp.GetRequiredService<ILocalSiloDetails>().Name == Limited ? new SiloLimits(100) : new SiloLimits());
    }

    [Fact]
    public async Task A_model_failing_on_one_silo_stops_the_job_naming_that_silo()
    {
        using var dir = new TempDir();
        string model = ScoringData.TrainModel(dir);
        await ScoringData.WriteParquet(dir.File("in.parquet"), ScoringData.Rows(4_000, 5), 4_000, 1_000);
        await using var cluster = new LimitedCluster();
        await cluster.InitializeAsync();
        var limited = cluster.Cluster.Silos.Single(s => s.Name == Limited);

        var e = await Assert.ThrowsAsync<SiloModelException>(() => ClusterScoring.RunAsync(cluster.Cluster.Client,
            new ClusterScoreRequest(model, dir.File("in.parquet"), dir.File("out.parquet"), new Dictionary<string, string>())));
        Assert.StartsWith($"silo {Limited} ({limited.SiloAddress.ToParsableString()}): model {model} failed to load: ", e.Message);
        Assert.Contains("above this silo's --max-model-bytes 100", e.Message);
        foreach (var other in cluster.Cluster.Silos.Where(s => s.Name != Limited)) Assert.DoesNotContain(other.Name, e.Message);
        Assert.False(File.Exists(dir.File("out.parquet")));
    }
}
