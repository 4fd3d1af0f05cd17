using System.CommandLine;
using System.Globalization;
using Loom.IO;
using Loom.Workload;
using Loom.Workload.Chakra;
using Loom.Workload.Simulation;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom workload MODEL --cluster FILE [--dp N --tp N --pp N] [--train] [--dim batch=B] --out DIR</c>:
/// one Chakra trace and one JSON file per rank, a simulation summary, and a table.
/// </summary>
internal static class WorkloadCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var cluster = WorkloadOptions.Cluster();
        var topology = WorkloadOptions.TopologyOverride();
        var dp = new Option<int>("--dp") { Description = "data-parallel degree", DefaultValueFactory = _ => 1 };
        var tp = new Option<int>("--tp") { Description = "tensor-parallel degree", DefaultValueFactory = _ => 1 };
        var pp = new Option<int>("--pp") { Description = "pipeline stages", DefaultValueFactory = _ => 1 };
        var micro = new Option<int>("--micro-batches") { Description = "micro-batches per step (default: 1, or 2×pp with pipeline stages)" };
        var train = WorkloadOptions.Train();
        var optimizer = WorkloadOptions.Optimizer();
        var zero = new Option<bool>("--zero") { Description = "shard optimizer state over data-parallel ranks (ZeRO-1: reduce-scatter gradients, all-gather parameters)" };
        var dims = CliOptions.Dims();
        var outDir = new Option<string?>("--out") { Description = "folder for workload.RANK.et (Chakra), workload.RANK.json, summary.json and simulated.json (the simulated step as a Chrome trace)" };
        var cmd = new Command("workload", "describe one step of a model on a cluster as per-rank workload graphs (Chakra), simulate it and summarise")
            { model, cluster, dp, tp, pp, micro, train, optimizer, zero, dims, outDir, topology };
        cmd.Subcommands.Add(WorkloadSweepCommand.Create());
        cmd.Subcommands.Add(WorkloadValidateCommand.Create());
        cmd.SetAction(p => CliOptions.Guard(() =>
        {
            int m = p.GetValue(micro) is > 0 and var mm ? mm : p.GetValue(pp) > 1 ? 2 * p.GetValue(pp) : 1;
            return Run(p.GetValue(model)!, p.GetValue(cluster), p.GetValue(topology), p.GetValue(dp), p.GetValue(tp), p.GetValue(pp), m, p.GetValue(train),
                WorkloadOptions.ParseOptimizer(p.GetValue(optimizer)!), p.GetValue(zero), CliOptions.ParseDims(p.GetValue(dims)), p.GetValue(outDir));
        }));
        return cmd;
    }

    private static int Run(string path, string? clusterPath, string? topology, int dp, int tp, int pp, int micro, bool train, OptimizerKind opt, bool zero,
        Dictionary<string, long> allDims, string? outDir)
    {
        WorkloadOptions.ConsoleWidth();
        var (dims, batch) = WorkloadOptions.SplitBatch(allDims);
        var planner = new WorkloadPlanner(ModelFiles.Load(path), dims);
        var strategy = new ParallelStrategy
        {
            DataParallel = dp, TensorParallel = tp, PipelineStages = pp, MicroBatches = micro, Training = train, Optimizer = opt, ShardedOptimizer = zero,
            GlobalBatch = batch ?? planner.NativeBatch * dp * micro,
        };
        var cluster = WorkloadOptions.LoadCluster(clusterPath, strategy.Ranks, topology);
        strategy.Validated(cluster.Devices);
        var builder = planner.Builder(strategy, new RooflineTimeModel(cluster.Device));
        var meta = new Dictionary<string, string> { ["model"] = Path.GetFileName(path), ["cluster"] = cluster.Name };
        var simulated = builder.BuildRepresentatives(meta);
        var report = new Simulator(cluster).Run(simulated);

        if (outDir is not null)
        {
            var all = builder.BuildAll(meta);
            foreach (var r in all.Ranks)
            {
                ChakraTrace.Write(r, Path.Combine(outDir, ChakraTrace.FileName("workload", r.Rank)));
                WorkloadJson.Write(r, Path.Combine(outDir, WorkloadJson.FileName("workload", r.Rank)));
            }
            AtomicFile.WriteAllText(Path.Combine(outDir, "simulated.json"), SimulationTrace.ToChromeJson(simulated, report));
            AtomicFile.WriteAllText(Path.Combine(outDir, "summary.json"), System.Text.Json.JsonSerializer.Serialize(new
            {
                model = Path.GetFileName(path), cluster, strategy, stepSeconds = report.StepSeconds, totalFlops = report.TotalFlops,
                flopUtilisation = report.FlopUtilisation,
                stages = report.Ranks.Select(r => new { r.Rank, r.ComputeSeconds, r.CommSeconds, r.ExposedCommSeconds, r.Utilisation, r.PeakMemoryBytes, r.Flops }),
            }, WorkloadJson.Options));
        }
        Print(path, cluster, strategy, builder, report, outDir);
        return 0;
    }

    private static void Print(string path, ClusterSpec cluster, ParallelStrategy s, WorkloadBuilder builder, SimulationReport report, string? outDir)
    {
        var profile = builder.Profile;
        AnsiConsole.MarkupLine(Markup.Escape($"{Path.GetFileName(path)} on {cluster.Name} ({cluster.Devices} devices, {cluster.Topology}): {s.Label}, " +
            $"{(s.Training ? $"training ({s.Optimizer})" : "inference")}, global batch {s.GlobalBatch}, micro-batch {s.MicroBatch}"));
        AnsiConsole.MarkupLine(Markup.Escape($"{profile.Ops.Count} operators, {profile.ParameterCount:N0} parameters ({WorkloadOptions.Bytes(profile.ParameterBytes)})"));
        var t = new Table().Border(TableBorder.Simple).AddColumns("stage", "rank", "nodes", "GFLOP", "compute", "comm", "exposed comm", "utilisation", "peak memory");
        for (int i = 0; i < report.Ranks.Count; i++)
        {
            var r = report.Ranks[i];
            t.AddRow(i.ToString(CultureInfo.InvariantCulture), r.Rank.ToString(CultureInfo.InvariantCulture), r.NodeStart.Length.ToString(CultureInfo.InvariantCulture),
                (r.Flops / 1e9).ToString("F2", CultureInfo.InvariantCulture), WorkloadOptions.Time(r.ComputeSeconds), WorkloadOptions.Time(r.CommSeconds),
                WorkloadOptions.Time(r.ExposedCommSeconds), r.Utilisation.ToString("P1", CultureInfo.InvariantCulture), Markup.Escape(WorkloadOptions.Bytes(r.PeakMemoryBytes)));
        }
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"step {WorkloadOptions.Time(report.StepSeconds)}, {s.GlobalBatch / report.StepSeconds:F1} samples/s, FLOP utilisation {report.FlopUtilisation:P1}")));
        if (outDir is not null) AnsiConsole.MarkupLine(Markup.Escape($"{s.Ranks} ranks -> {outDir}/workload.RANK.et and .json, summary.json"));
    }
}
