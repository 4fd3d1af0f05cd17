using System.CommandLine;
using System.Globalization;
using Loom.IO;
using Loom.Workload;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom workload validate MODEL [--threads 1,2] [--runs 5]</c>: simulated vs measured run of Loom on this machine. Each
/// invocation probes the kernel paths afresh (a few seconds), so the rates and the runs see the same machine.
/// </summary>
internal static class WorkloadValidateCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var threads = new Option<string>("--threads") { Description = "intra-op thread counts to validate, comma-separated", DefaultValueFactory = _ => "1,2" };
        var runs = new Option<int>("--runs") { Description = "measured runs (the median is compared)", DefaultValueFactory = _ => 5 };
        var clock = new Option<string>("--clock") { Description = "auto (default: the thread's CPU time with one thread, stable on a shared machine; elapsed time with more), cpu or wall", DefaultValueFactory = _ => "auto" };
        var traces = new Option<string?>("--trace") { Description = "folder for measured-T.json and simulated-T.json (Chrome trace format) per thread count T" };
        var csv = new Option<string?>("--nodes") { Description = "write every node (kernel path, multiply-adds, bytes, simulated and measured ms) to this CSV file per thread count ({T} in the name is replaced by it), and the probe samples ({T} → probesN)" };
        var top = new Option<int>("--top") { Description = "nodes with the largest absolute error to list", DefaultValueFactory = _ => 8 };
        var cmd = new Command("validate", "simulate Loom's own run of the model on this machine (cost model as device speed) and compare with measured runs")
            { model, threads, runs, clock, traces, top, csv };
        cmd.SetAction(p => CliOptions.Guard(() => Run(p.GetValue(model)!, p.GetValue(threads)!, p.GetValue(runs), p.GetValue(clock)!, p.GetValue(traces), p.GetValue(top), p.GetValue(csv))));
        return cmd;
    }

    private static int Run(string path, string threadList, int runs, string clockName, string? traceDir, int top, string? csvPath)
    {
        WorkloadOptions.ConsoleWidth();
        ValidationClock? clock = clockName.ToLowerInvariant() switch
        {
            "auto" => null,
            "cpu" => ValidationClock.Cpu,
            "wall" => ValidationClock.Wall,
            _ => throw new InputException($"--clock '{clockName}' must be auto, cpu or wall"),
        };
        if (!File.Exists(path)) throw new InputException($"{path}: no such file");
        var counts = threadList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => int.TryParse(t, out var v) && v > 0 ? v : throw new InputException($"--threads '{threadList}' must be positive integers separated by commas")).ToList();
        string Ms(double s) => (s * 1e3).ToString("F3", CultureInfo.InvariantCulture);
        // Rounded first: a tiny negative error would print as "-+0.0%".
        string Pct(double e) => (Math.Round(e, 3) + 0.0).ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture);
        string Load(double l) => double.IsNaN(l) ? "n/a" : l.ToString("F1", CultureInfo.InvariantCulture);
        var summary = new Table().Border(TableBorder.Simple).AddColumns("threads", "clock", "simulated ms", $"measured ms (median of {runs})", "wall ms (median)",
            "Σ nodes ms", "end-to-end error", "error vs Σ nodes", "node error (time-weighted)", "median node error", "load avg (before → after)");
        foreach (var t in counts)
        {
            var r = Validation.Run(path, t, runs, clock);
            summary.AddRow(t.ToString(CultureInfo.InvariantCulture), r.Clock == ValidationClock.Cpu ? "thread CPU" : "wall", Ms(r.SimulatedSeconds), Ms(r.MeasuredSeconds), Ms(r.MedianWallSeconds),
                Ms(r.MeasuredNodeSum), Pct(r.EndToEndError), Pct((r.SimulatedSeconds - r.MeasuredNodeSum) / r.MeasuredNodeSum), r.NodeError.ToString("P1", CultureInfo.InvariantCulture), r.MedianNodeError.ToString("P1", CultureInfo.InvariantCulture),
                $"{Load(r.LoadBefore)} → {Load(r.LoadAfter)}");
            if (traceDir is not null)
            {
                AtomicFile.WriteAllText(Path.Combine(traceDir, $"measured-{t}.json"), r.MeasuredChromeTrace);
                AtomicFile.WriteAllText(Path.Combine(traceDir, $"simulated-{t}.json"), r.SimulatedChromeTrace);
            }
            if (csvPath is not null)
            {
                AtomicFile.WriteAllText(PerThreads(csvPath, t.ToString(CultureInfo.InvariantCulture)), Csv(r));
                AtomicFile.WriteAllText(PerThreads(csvPath, $"probes{t}"), ProbeCsv(r.Profile!));
            }
            if (top <= 0) continue;
            AnsiConsole.Write(Calibration(r.Profile!));
            var paths = new Table().Border(TableBorder.Simple).Title($"{t} thread(s): by kernel path")
                .AddColumns("path", "nodes", "simulated ms", "measured ms", "error");
            foreach (var (kp, count, sim, meas) in r.ByPath())
                paths.AddRow(kp.ToString(), count.ToString(CultureInfo.InvariantCulture), Ms(sim), Ms(meas), meas > 0 ? Pct((sim - meas) / meas) : "n/a");
            AnsiConsole.Write(paths);
            var worst = new Table().Border(TableBorder.Simple).Title($"{t} thread(s): nodes with the largest error")
                .AddColumns("node", "op", "path", "simulated ms", "measured ms", "error");
            foreach (var n in r.Nodes.OrderByDescending(n => Math.Abs(n.Simulated - n.Measured)).Take(top))
                worst.AddRow(Markup.Escape(n.Name), Markup.Escape(n.Op), n.Work.Path.ToString(), Ms(n.Simulated), Ms(n.Measured), n.Measured > 0 ? Pct((n.Simulated - n.Measured) / n.Measured) : "n/a");
            AnsiConsole.Write(worst);
        }
        AnsiConsole.MarkupLine(Markup.Escape(Path.GetFileName(path) + $": Loom run (sequential, median of {runs}) vs simulation"));
        AnsiConsole.Write(summary);
        return 0;
    }

    /// <summary>The file name with {T} replaced by <paramref name="tag"/>, or with "-tag" before its extension when it has no {T}.</summary>
    private static string PerThreads(string path, string tag)
    {
        var name = Path.GetFileName(path);
        name = name.Contains("{T}", StringComparison.Ordinal) ? name.Replace("{T}", tag, StringComparison.Ordinal)
            : Path.GetFileNameWithoutExtension(name) + "-" + tag + Path.GetExtension(name);
        return Path.Combine(Path.GetDirectoryName(path) ?? "", name);
    }

    private static string Csv(Loom.Workload.ValidationResult r)
    {
        var sb = new System.Text.StringBuilder("node,op,path,macs,bytes,simulated_ms,measured_ms\n");
        foreach (var n in r.Nodes)
            sb.Append(CultureInfo.InvariantCulture, $"{n.Name},{n.Op},{n.Work.Path},{n.Work.Macs},{n.Work.Bytes},{n.Simulated * 1e3:F4},{n.Measured * 1e3:F4}\n");
        return sb.ToString();
    }

    private static string ProbeCsv(KernelPathProfile p)
    {
        var sb = new System.Text.StringBuilder("op,path,macs,bytes,predicted_ms,measured_ms\n");
        foreach (var n in p.Samples)
            sb.Append(CultureInfo.InvariantCulture, $"{n.Op},{n.Path},{n.Macs},{n.Bytes},{p.Seconds(new KernelWork(n.Path, n.Macs, n.Bytes) { Op = n.Op }) * 1e3:F4},{n.Seconds * 1e3:F4}\n");
        return sb.ToString();
    }

    /// <summary>The fitted rates per path: what the simulation believes about this machine.</summary>
    private static Table Calibration(KernelPathProfile p)
    {
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        var table = new Table().Border(TableBorder.Simple).Title($"{p.Threads} thread(s): kernel paths as probed (per node: fixed + multiply-adds / rate + bytes / bandwidth)")
            .AddColumns("path", "probe nodes", "fixed µs", "GMAC/s", "GB/s", "probe error (median)");
        foreach (var path in Enum.GetValues<KernelPath>())
        {
            if (p.Paths[(int)path] is not { } k) continue;
            var samples = p.Samples.Where(s => s.Path == path).ToList();
            var errors = samples.Select(s => Math.Abs(p.Seconds(new KernelWork(s.Path, s.Macs, s.Bytes) { Op = s.Op }) / s.Seconds - 1)).Order().ToList();
            table.AddRow(path.ToString(), samples.Count.ToString(CultureInfo.InvariantCulture), F(k.OverheadSeconds * 1e6, "F1"),
                k.SecondsPerWork > 0 ? F(1e-9 / k.SecondsPerWork, "F1") : "-", k.SecondsPerPackedByte > 0 ? F(1e-9 / k.SecondsPerPackedByte, "F1") : "-",
                errors.Count > 0 ? errors[errors.Count / 2].ToString("P1", CultureInfo.InvariantCulture) : "-");
        }
        table.AddRow("executor", "", F(p.Executor.OverheadSeconds * 1e6, "F1") + " per run", F(p.Executor.SecondsPerWork * 1e6, "F2") + " µs per node", "", "");
        return table;
    }
}
