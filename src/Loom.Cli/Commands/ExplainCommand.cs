using System.CommandLine;
using System.Diagnostics;
using Loom.Runtime;
using Loom.Runtime.Parallel;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom explain MODEL [--threads N] [--dim batch=B] [--inter-op-only] [--trace FILE.json] [--svg FILE.svg]</c>:
/// the schedule a session makes — clusters, critical path, the graph's bound on speedup, predicted speedup
/// and load balance — then real runs: sequential and scheduled latency, and predicted against measured time per node.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var dims = CliOptions.Dims();
        var threads = CliInputs.Threads();
        var interOpOnly = CliInputs.InterOpOnly();
        var trace = CliInputs.Trace();
        var svg = new Option<string?>("--svg") { Description = "draw the schedule as a Gantt chart per worker (FILE.svg)" };
        var runs = new Option<int>("--runs") { Description = "runs to time of each kind (0: predict only)", DefaultValueFactory = _ => 5 };
        var cmd = new Command("explain", "show how a model is scheduled over the threads, what that should gain, and what it does gain")
            { model, dims, threads, interOpOnly, trace, svg, runs };
        cmd.SetAction(parse => CliOptions.Guard(() => Run(parse.GetValue(model)!, CliOptions.ParseDims(parse.GetValue(dims)),
            parse.GetValue(threads), parse.GetValue(interOpOnly), parse.GetValue(trace), parse.GetValue(svg), parse.GetValue(runs))));
        return cmd;
    }

    private static int Run(string path, Dictionary<string, long> dims, int threads, bool interOpOnly, string? tracePath, string? svgPath, int runs)
    {
        if (threads < 2) throw new InputException("--threads must be at least 2 for a schedule to explain");
        var clock = Stopwatch.StartNew();
        using var session = LoomSession.Load(path, CliInputs.Options(threads, sequential: false, interOpOnly, dims));
        double loadMs = clock.Elapsed.TotalMilliseconds;
        var feeds = CliInputs.Feeds(session, [], dims);
        var plan = session.PlanFor(dims) ?? throw new InvalidOperationException("a parallel session has a schedule");
        clock.Restart();
        session.BuildPlan(dims); // again, to time the scheduler alone (warm)
        double scheduleMs = clock.Elapsed.TotalMilliseconds;

        var report = new ExplainReport(Path.GetFileName(path), plan, dims);
        report.PrintSchedule(loadMs, scheduleMs);
        ExplainReport.PrintProfile(session.Options.MachineProfile ?? Loom.Scheduling.MachineProfile.ForThisMachine(threads));
        report.PrintSplit(session.WhyBatchNotSplittable);
        if (svgPath is not null)
        {
            Loom.IO.AtomicFile.WriteAllText(svgPath, ScheduleSvg.Draw(plan, Path.GetFileName(path)));
            Console.WriteLine($"schedule chart -> {svgPath}");
        }
        if (runs > 0) Measure(path, session, feeds, report, runs, threads, dims);
        if (tracePath is not null)
        {
            if (runs <= 0) JitWarmUp.Run(() => session.Run(feeds).Dispose()); // a steady run's trace, not the JIT's first pass
            var trace = new RunTrace();
            session.Run(feeds, trace).Dispose();
            trace.WriteChromeJson(tracePath);
            Console.WriteLine($"trace of one scheduled run -> {tracePath}");
        }
        return 0;
    }

    /// <summary>Times sequential (one thread, and all threads) and scheduled runs, interleaved so load changes hit them alike.</summary>
    private static void Measure(string path, LoomSession scheduled, Dictionary<string, LoomValue> feeds, ExplainReport report, int runs, int threads, Dictionary<string, long> dims)
    {
        using var one = LoomSession.Load(path, CliInputs.Options(1, sequential: true, interOpOnly: false, dims));
        using var all = LoomSession.Load(path, CliInputs.Options(threads, sequential: true, interOpOnly: false, dims));
        var sessions = new[] { one, all, scheduled };
        var times = sessions.Select(_ => new List<double>()).ToArray();
        // Per node, every session traced alike: one thread in turn, all threads in turn, and the schedule (a node beside another).
        var traces = sessions.Select(_ => new RunTrace()).ToArray();
        var perNode = sessions.Select(_ => new Dictionary<string, List<double>>()).ToArray();
        JitWarmUp.Run(() => { foreach (var s in sessions) s.Run(feeds).Dispose(); }); // constant steps, buffers, and code the JIT has optimized
        for (int r = 0; r < runs; r++)
            for (int k = 0; k < sessions.Length; k++)
            {
                var clock = Stopwatch.StartNew();
                sessions[k].Run(feeds, traces[k]).Dispose();
                times[k].Add(clock.Elapsed.TotalMilliseconds);
                foreach (var e in traces[k].Events)
                    (perNode[k].TryGetValue(e.Node, out var l) ? l : perNode[k][e.Node] = new()).Add(e.DurationMicroseconds / 1000);
            }
        var medians = perNode.Select(d => d.ToDictionary(kv => kv.Key, kv => Median(kv.Value))).ToArray();
        report.PrintMeasured(Median(times[0]), Median(times[1]), Median(times[2]), threads, medians[0], medians[1], medians[2]);
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }
}
