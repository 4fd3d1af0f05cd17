using Loom.Cluster.Jobs;
using Loom.Cluster.Scoring;
using Loom.Tests.Support;

namespace Loom.Cluster.Tests;

/// <summary>Distributed scoring on three in-process silos, checked row by row against single-machine `loom score`.</summary>
public class InProcessScoringTests(InProcessCluster fixture) : IClassFixture<InProcessCluster>
{
    private static readonly Dictionary<string, string> NoMap = [];

    [Fact]
    public async Task Parquet_row_groups_scored_across_silos_equal_single_machine()
    {
        using var dir = new TempDir();
        string model = ScoringData.TrainModel(dir);
        var x = ScoringData.Rows(20_000, 7);
        await ScoringData.WriteParquet(dir.File("in.parquet"), x, 20_000, 1_500);
        ScoringData.ScoreSingleMachine(model, dir.File("in.parquet"), dir.File("single.parquet"));

        var result = await ClusterScoring.RunAsync(fixture.Cluster.Client, new ClusterScoreRequest(model, dir.File("in.parquet"), dir.File("out.parquet"), NoMap, MaxChunkBytes: 4096));
        Assert.Equal(20_000, result.Rows);
        Assert.Equal(3, result.Silos.Count); // every silo took shards
        Assert.Equal(14, result.Silos.Sum(s => s.Shards));
        Assert.True(result.BytesSent >= 20_000 * ScoringData.Cols * 4, $"{result.BytesSent} bytes sent");
        await ScoringData.AssertSamePredictions(dir.File("single.parquet"), dir.File("out.parquet"));
        Assert.True(File.Exists(result.Manifest));
        Assert.False(Directory.Exists(dir.File("out.parquet") + "." + result.JobId + ".parts"));
        var job = await fixture.Cluster.Client.GetGrain<IScoringJobGrain>(result.JobId).Get();
        Assert.Equal(JobState.Finished, job!.Status);
        Assert.Contains(result.JobId, await fixture.Cluster.Client.GetGrain<IJobIndexGrain>(0).List());
    }

    [Fact]
    public async Task Csv_byte_ranges_scored_across_silos_equal_single_machine()
    {
        using var dir = new TempDir();
        string model = ScoringData.TrainModel(dir);
        var x = ScoringData.Rows(9_000, 8);
        ScoringData.WriteCsv(dir.File("in.csv"), x, 9_000);
        ScoringData.ScoreSingleMachine(model, dir.File("in.csv"), dir.File("single.csv"));
        var result = await ClusterScoring.RunAsync(fixture.Cluster.Client, new ClusterScoreRequest(model, dir.File("in.csv"), dir.File("out.csv"), NoMap, CsvShardBytes: 50_000));
        Assert.Equal(9_000, result.Rows);
        Assert.True(result.Silos.Sum(s => s.Shards) > 6);
        Assert.Equal(File.ReadAllBytes(dir.File("single.csv")), File.ReadAllBytes(dir.File("out.csv")));
    }

    [Fact]
    public async Task A_bad_row_stops_the_job_naming_its_shard_and_a_bad_model_names_the_silo()
    {
        using var dir = new TempDir();
        string model = ScoringData.TrainModel(dir);
        ScoringData.WriteCsv(dir.File("in.csv"), ScoringData.Rows(3_000, 9), 3_000);
        var lines = File.ReadAllLines(dir.File("in.csv"));
        lines[2_500] = "1,2,oops,4,5,6";
        File.WriteAllLines(dir.File("in.csv"), lines);
        var e = await Assert.ThrowsAsync<InputException>(() => ClusterScoring.RunAsync(fixture.Cluster.Client,
            new ClusterScoreRequest(model, dir.File("in.csv"), dir.File("out.csv"), NoMap, CsvShardBytes: 20_000)));
        Assert.Matches(@"shard \d+ \(bytes \d+-\d+\): row \d+: column 'Column_2' value 'oops' is not a number", e.Message);
        Assert.False(File.Exists(dir.File("out.csv")));

        File.WriteAllText(dir.File("broken.txt"), "tree\nversion=v4\nnum_class=1\nthis is not a model\n");
        var m = await Assert.ThrowsAsync<SiloModelException>(() => ClusterScoring.RunAsync(fixture.Cluster.Client,
            new ClusterScoreRequest(dir.File("broken.txt"), dir.File("in.csv"), dir.File("out2.csv"), NoMap)));
        Assert.Matches(@"^silo .+ \(S?\d", m.Message);
        Assert.Contains("broken.txt failed to load", m.Message);
    }

    [Fact]
    public async Task A_corrupt_parquet_row_group_stops_the_job_naming_its_shard()
    {
        using var dir = new TempDir();
        string model = ScoringData.TrainModel(dir);
        await ScoringData.WriteParquet(dir.File("in.parquet"), ScoringData.Rows(8_000, 12), 8_000, 2_000);
        // Scribble over row group 2's first page header; the footer (and so the plan) stays readable.
        long offset;
        await using (var fs = File.OpenRead(dir.File("in.parquet")))
        await using (var reader = await Parquet.ParquetReader.CreateAsync(fs))
            offset = reader.Metadata!.RowGroups[2].Columns[0].MetaData!.DataPageOffset;
        var bytes = File.ReadAllBytes(dir.File("in.parquet"));
        for (long i = offset; i < offset + 24; i++) bytes[i] = 0xFF;
        File.WriteAllBytes(dir.File("in.parquet"), bytes);
        var e = await Assert.ThrowsAnyAsync<LoomException>(() => ClusterScoring.RunAsync(fixture.Cluster.Client,
            new ClusterScoreRequest(model, dir.File("in.parquet"), dir.File("out.parquet"), NoMap)));
        Assert.Matches(@"in\.parquet shard 2 \(row group 2\): corrupt: ", e.Message);
        Assert.False(File.Exists(dir.File("out.parquet")));
    }
}
