using System.Globalization;
using Loom.Cluster.Hosting;
using Loom.Cluster.Scoring;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary><c>loom score ... --cluster CONNSTR</c> (and <c>--resume JOBID</c>): the distributed path of <see cref="ScoreCommand"/>.</summary>
internal static class ClusterScore
{
    public static int Run(string cluster, ClusterScoreRequest request, bool noProgress)
    {
        return RunAsync().GetAwaiter().GetResult();

        async Task<int> RunAsync()
        {
            await using var connection = await ClusterConnection.ConnectAsync(cluster);
            ClusterScoreResult result;
            if (!noProgress && AnsiConsole.Profile.Capabilities.Interactive)
            {
                result = await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask("scoring", maxValue: 1);
                        var r = await ClusterScoring.RunAsync(connection.Client, request, p =>
                        {
                            task.Value = (double)p.ShardsDone / Math.Max(1, p.Shards);
                            task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                                $"{p.JobId}: {p.ShardsDone}/{p.Shards} shards, {p.Rows / Math.Max(1e-9, p.Seconds):N0} rows/s | ") +
                                string.Join(" | ", p.Silos.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Silo} {s.Shards} shards {s.Rows / Math.Max(1e-9, s.BusySeconds):N0} rows/s"))));
                        }, message => AnsiConsole.MarkupLine(Markup.Escape(message)));
                        task.Value = 1;
                        return r;
                    });
            }
            else result = await ClusterScoring.RunAsync(connection.Client, request, p =>
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.JobId}: {p.ShardsDone}/{p.Shards} shards, {p.Rows:N0} rows, {p.Seconds:F1} s")), Console.Error.WriteLine);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"job {result.JobId}: scored {result.Rows:N0} rows in {result.Seconds:F2} s ({result.Rows / Math.Max(1e-9, result.Seconds):N0} rows/s) on {result.Silos.Count} silos -> {result.Output}"));
            foreach (var s in result.Silos)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {s.Silo}: {s.Shards} shards, {s.Rows:N0} rows, {s.Rows / Math.Max(1e-9, s.BusySeconds):N0} rows/s while busy"));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  tensor messages: {result.BytesSent:N0} bytes sent, {result.BytesReceived:N0} received; {result.ShardsRerun} shard attempts re-run; manifest {result.Manifest}"));
            return 0;
        }
    }
}
