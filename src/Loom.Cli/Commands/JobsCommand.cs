using System.CommandLine;
using System.Globalization;
using Loom.Cluster;
using Loom.Cluster.Hosting;
using Loom.Cluster.Jobs;
using Loom.Cluster.Scoring;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary><c>loom jobs --cluster CONNSTR [JOBID]</c>: the cluster's scoring jobs, or one job's shards per silo.</summary>
internal static class JobsCommand
{
    public static Command Create()
    {
        var cluster = new Option<string>("--cluster") { Description = "PostgreSQL connection string of the cluster, or localhost[:GATEWAY]", Required = true };
        var id = new Argument<string?>("job") { Description = "show this job's progress per silo", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("jobs", "list the cluster's scoring jobs with progress, rows/s and shards per silo") { cluster, id };
        cmd.SetAction(p => CliOptions.Guard(() => Run(p.GetValue(cluster)!, p.GetValue(id)).GetAwaiter().GetResult()));
        return cmd;
    }

    private static async Task<int> Run(string cluster, string? id)
    {
        await using var c = await ClusterConnection.ConnectAsync(cluster);
        var ids = id is null ? await c.Client.GetGrain<IJobIndexGrain>(0).List() : [id];
        // Ids and counts never wrap (a job id split over two lines cannot be copied or grepped); paths and per-silo lines may.
        var table = new Table().AddColumns(new TableColumn("job").NoWrap(), new TableColumn("status"), new TableColumn("shards").NoWrap(),
            new TableColumn("rows").NoWrap(), new TableColumn("rows/s").NoWrap(), new TableColumn("per silo (rows, shards, rows/s busy)"), new TableColumn("output"));
        foreach (var j in ids)
        {
            var job = await c.Client.GetGrain<IScoringJobGrain>(j).Get() ?? throw new ClusterJobException($"no job '{j}' in this cluster");
            long rows = job.Done.Values.Sum(d => d.Rows);
            double seconds = Math.Max(1e-9, (job.Updated - job.Created).TotalSeconds);
            var silos = string.Join("\n", ClusterScoring.Stats(job).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Silo}: {s.Rows:N0}, {s.Shards}, {s.Rows / Math.Max(1e-9, s.BusySeconds):N0}")));
            table.AddRow(Markup.Escape(job.Id), Markup.Escape(job.Status + (job.Error is null ? "" : ": " + job.Error)), $"{job.Done.Count}/{job.Shards.Count}",
                rows.ToString("N0", CultureInfo.InvariantCulture), (rows / seconds).ToString("N0", CultureInfo.InvariantCulture), Markup.Escape(silos), Markup.Escape(job.Output));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
