using Loom.Cluster.Jobs;
using Loom.Cluster.Scoring;
using Loom.Tests.Support;

namespace Loom.Cluster.Tests;

/// <summary>A silo killed mid-job on an in-process cluster: its shards are re-run elsewhere and the output equals single-machine scoring.</summary>
public class SiloLossInProcessTests
{
    [Fact]
    public async Task Killing_a_silo_mid_job_loses_and_duplicates_no_row()
    {
        using var dir = new TempDir();
        string model = ScoringData.TrainModel(dir, trees: 200);
        var x = ScoringData.Rows(60_000, 11);
        await ScoringData.WriteParquet(dir.File("in.parquet"), x, 60_000, 1_500);
        ScoringData.ScoreSingleMachine(model, dir.File("in.parquet"), dir.File("single.parquet"));

        // The kill lands between a silo's shards now and then (nothing in flight to re-run): the run is still
        // checked row by row, and the scenario is tried again, up to six times, until a shard was lost (three attempts
        // all missed in one of four clean CI runs on 2026-11-28; an attempt takes ~2 s).
        ClusterScoreResult result = null!;
        for (int attempt = 0; attempt < 6; attempt++)
        {
            var output = dir.File($"out{attempt}.parquet");
            result = await RunAndKillOneSilo(model, dir, output);
            Assert.Equal(60_000, result.Rows);
            await ScoringData.AssertSamePredictions(dir.File("single.parquet"), output);
            if (result.ShardsRerun >= 1) break;
        }
        Assert.True(result.ShardsRerun >= 1, "the killed silo's shard in flight was re-run");
    }

    private static async Task<ClusterScoreResult> RunAndKillOneSilo(string model, TempDir dir, string output)
    {
        await using var cluster = new InProcessCluster();
        await cluster.InitializeAsync();
        var client = cluster.Cluster.Client;
        var someDone = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Small chunks and one shard in flight per silo keep the job running long enough to kill a silo inside it.
        var job = ClusterScoring.RunAsync(client, new ClusterScoreRequest(model, dir.File("in.parquet"), output, new Dictionary<string, string>(),
            MaxChunkBytes: 24 * 200, InFlightPerSilo: 1), p => { if (p.ShardsDone >= 4) someDone.TrySetResult(p.JobId); });
        string jobId = await someDone.Task.WaitAsync(TimeSpan.FromMinutes(2));

        // Kill a secondary silo that does not hold the job grain (memory storage would lose the job with it;
        // the PostgreSQL test kills any silo) and that has scored something, so it dies with work in flight.
        var jobSilo = await client.GetGrain<IManagementGrain>(0).GetActivationAddress(client.GetGrain<IScoringJobGrain>(jobId));
        var victim = cluster.Cluster.SecondarySilos.First(s => !s.SiloAddress.Equals(jobSilo));
        await cluster.Cluster.KillSiloAsync(victim);

        return await job.WaitAsync(TimeSpan.FromMinutes(3));
    }
}
