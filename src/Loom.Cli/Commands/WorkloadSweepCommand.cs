using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Loom.IO;
using Loom.Workload;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary><c>loom workload sweep MODEL --cluster FILE --devices 1..1024 [--train] [--dim batch=B] [--svg FILE]</c>.</summary>
internal static class WorkloadSweepCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var cluster = WorkloadOptions.Cluster();
        var topology = WorkloadOptions.TopologyOverride();
        var devices = new Option<string>("--devices") { Description = "device counts MIN..MAX (powers of two in between)", DefaultValueFactory = _ => "1..1024" };
        var train = WorkloadOptions.Train();
        var dims = CliOptions.Dims();
        var svg = new Option<string?>("--svg") { Description = "SVG plot of step time and efficiency (default: sweep.svg)" };
        var cmd = new Command("sweep", "simulate the model over device counts and strategies (weak scaling: --dim batch=B per device, default 32); table and SVG plot")
            { model, cluster, devices, train, dims, svg, topology };
        cmd.SetAction(p => CliOptions.Guard(() => Run(p.GetValue(model)!, p.GetValue(cluster), p.GetValue(topology), p.GetValue(devices)!, p.GetValue(train),
            CliOptions.ParseDims(p.GetValue(dims)), p.GetValue(svg) ?? "sweep.svg")));
        return cmd;
    }

    private static int Run(string path, string? clusterPath, string? topology, string range, bool train, Dictionary<string, long> allDims, string svgPath)
    {
        WorkloadOptions.ConsoleWidth();
        var sw = Stopwatch.StartNew();
        var parts = range.Split("..");
        if (parts.Length != 2 || !int.TryParse(parts[0], out int lo) || !int.TryParse(parts[1], out int hi) || lo < 1 || hi < lo)
            throw new InputException($"--devices '{range}' must look like MIN..MAX with 1 <= MIN <= MAX");
        var (dims, batch) = WorkloadOptions.SplitBatch(allDims);
        var planner = new WorkloadPlanner(ModelFiles.Load(path), dims);
        var cluster = WorkloadOptions.LoadCluster(clusterPath, hi, topology);
        var points = WorkloadSweep.Run(planner, cluster, lo, hi, train, batch ?? 32);

        var t = new Table().Border(TableBorder.Simple).AddColumns("devices", "strategy", "step", "samples/s", "efficiency", "exposed comm", "peak memory");
        foreach (var grp in points.GroupBy(p => p.Devices))
        {
            var best = grp.MaxBy(p => p.SamplesPerSecond)!;
            foreach (var p in grp)
                t.AddRow(p.Devices.ToString(CultureInfo.InvariantCulture), Markup.Escape(p.Strategy.Label) + (p == best ? " [green]*[/]" : ""),
                    WorkloadOptions.Time(p.Report.StepSeconds), p.SamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture),
                    p.Efficiency.ToString("P1", CultureInfo.InvariantCulture), WorkloadOptions.Time(p.Report.MaxExposedComm),
                    Markup.Escape(WorkloadOptions.Bytes(p.Report.MaxPeakMemory)));
        }
        AnsiConsole.Write(t);
        var title = $"{Path.GetFileName(path)} {(train ? "training" : "inference")}, batch {batch ?? 32}/device, {cluster.Name} ({cluster.Topology})";
        AtomicFile.WriteAllText(svgPath, SweepPlot.Svg(points, title));
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{points.Count} points (* best per device count) in {sw.Elapsed.TotalSeconds:F2} s; plot -> {svgPath}")));
        return 0;
    }
}
