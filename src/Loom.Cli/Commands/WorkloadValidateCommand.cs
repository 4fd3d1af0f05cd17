using System.CommandLine;
using System.Globalization;
using Loom.IO;
using Loom.Workload;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary><c>loom workload validate MODEL [--threads 1,2] [--runs 5]</c>: simulated vs measured run of Loom on this machine.</summary>
internal static class WorkloadValidateCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var threads = new Option<string>("--threads") { Description = "intra-op thread counts to validate, comma-separated", DefaultValueFactory = _ => "1,2" };
        var runs = new Option<int>("--runs") { Description = "measured runs (the median is compared)", DefaultValueFactory = _ => 5 };
        var clock = new Option<string>("--clock") { Description = "cpu (default: CPU time of the run, stable on a shared machine) or wall", DefaultValueFactory = _ => "cpu" };
        var traces = new Option<string?>("--trace") { Description = "folder for measured-T.json and simulated-T.json (Chrome trace format) per thread count T" };
        var recalibrate = new Option<bool>("--recalibrate") { Description = "probe the machine afresh before measuring instead of using the cached profile" };
        var top = new Option<int>("--top") { Description = "nodes with the largest absolute error to list", DefaultValueFactory = _ => 8 };
        var cmd = new Command("validate", "simulate Loom's own run of the model on this machine (cost model as device speed) and compare with measured runs")
            { model, threads, runs, clock, traces, recalibrate, top };
        cmd.SetAction(p => CliOptions.Guard(() => Run(p.GetValue(model)!, p.GetValue(threads)!, p.GetValue(runs), p.GetValue(clock)!, p.GetValue(traces), p.GetValue(recalibrate), p.GetValue(top))));
        return cmd;
    }

    private static int Run(string path, string threadList, int runs, string clockName, string? traceDir, bool recalibrate, int top)
    {
        WorkloadOptions.ConsoleWidth();
        var clock = clockName.ToLowerInvariant() switch
        {
            "cpu" => ValidationClock.Cpu,
            "wall" => ValidationClock.Wall,
            _ => throw new InputException($"--clock '{clockName}' must be cpu or wall"),
        };
        if (!File.Exists(path)) throw new InputException($"{path}: no such file");
        var counts = threadList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => int.TryParse(t, out var v) && v > 0 ? v : throw new InputException($"--threads '{threadList}' must be positive integers separated by commas")).ToList();
        string Ms(double s) => (s * 1e3).ToString("F3", CultureInfo.InvariantCulture);
        string Pct(double e) => e.ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture);
        var summary = new Table().Border(TableBorder.Simple).AddColumns("threads", "simulated ms", $"measured ms ({clockName}, median)", "wall ms (median)", "Σ nodes ms", "end-to-end error", "node error (time-weighted)", "median node error");
        foreach (var t in counts)
        {
            var r = Validation.Run(path, t, runs, clock, recalibrate);
            summary.AddRow(t.ToString(CultureInfo.InvariantCulture), Ms(r.SimulatedSeconds), Ms(r.MeasuredSeconds), Ms(r.MedianWallSeconds), Ms(r.MeasuredNodeSum), Pct(r.EndToEndError),
                r.NodeError.ToString("P1", CultureInfo.InvariantCulture), r.MedianNodeError.ToString("P1", CultureInfo.InvariantCulture));
            if (traceDir is not null)
            {
                AtomicFile.WriteAllText(Path.Combine(traceDir, $"measured-{t}.json"), r.MeasuredChromeTrace);
                AtomicFile.WriteAllText(Path.Combine(traceDir, $"simulated-{t}.json"), r.SimulatedChromeTrace);
            }
            if (top <= 0) continue;
            var worst = new Table().Border(TableBorder.Simple).Title($"{t} thread(s): nodes with the largest error")
                .AddColumns("node", "op", "simulated ms", "measured ms", "error");
            foreach (var n in r.Nodes.OrderByDescending(n => Math.Abs(n.Simulated - n.Measured)).Take(top))
                worst.AddRow(Markup.Escape(n.Name), Markup.Escape(n.Op), Ms(n.Simulated), Ms(n.Measured), n.Measured > 0 ? Pct((n.Simulated - n.Measured) / n.Measured) : "n/a");
            AnsiConsole.Write(worst);
        }
        AnsiConsole.MarkupLine(Markup.Escape(Path.GetFileName(path) + $": Loom run (sequential, median of {runs}) vs simulation"));
        AnsiConsole.Write(summary);
        return 0;
    }
}
