using System.Globalization;
using Loom.Runtime.Parallel;

namespace Loom.Cli.Commands;

/// <summary>The text <c>loom explain</c> prints: the schedule, then measured runs against its predictions.</summary>
internal sealed class ExplainReport(string model, ParallelPlan plan, Dictionary<string, long> dims)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static string Ms(double seconds) => (seconds * 1000).ToString("F2", Inv) + " ms";

    /// <summary>Where the cost model's kernel speeds came from, and whether they can be trusted.</summary>
    public static void PrintProfile(Loom.Scheduling.MachineProfile profile)
    {
        string text = profile.ParallelScaling switch
        {
            null => "from this machine's cache",
            { } s when profile.ProbedBusy => string.Create(Inv,
                $"probed while the cores were busy (its kernels ran {s:F2}x faster on {profile.Threads} threads than on one), so cached for half an hour only: its {profile.Threads}-thread speeds describe the load, so the schedule runs every node with all threads (no branches side by side) until a quiet probe replaces it; run again on a quieter machine"),
            { } s => string.Create(Inv, $"probed now and cached (its kernels ran {s:F2}x faster on {profile.Threads} threads than on one)"),
        };
        Console.WriteLine($"machine profile: {text}");
        // Per class: all threads against one on work alone (fixed costs aside), and one thread beside the others against alone.
        Console.WriteLine("  per class, work on " + profile.Threads + " threads vs 1 / one thread beside the others vs alone: " + string.Join(", ",
            Enum.GetValues<Loom.Scheduling.KernelClass>().Select(c => string.Create(Inv,
                $"{c} {profile.Single[(int)c].SecondsPerWork / Math.Max(profile.Wide[(int)c].SecondsPerWork, 1e-30):F2}x / {profile.BesideFactor(c):F2}"))));
    }

    public void PrintSchedule(double loadMs, double scheduleMs)
    {
        var s = plan.Schedule;
        var df = plan.Dataflow;
        var at = dims.Count == 0 ? "" : " at " + string.Join(", ", dims.Select(kv => $"{kv.Key}={kv.Value}"));
        Console.WriteLine($"{model}: {df.Graph.Count} nodes on {s.Workers} workers{at}, {(plan.InterOpOnly ? "inter-op only (one thread per node)" : "inter-op and intra-op")}");
        Console.WriteLine(string.Create(Inv, $"load + optimize + schedule {loadMs:F1} ms in a fresh process (scheduling again, warm: {scheduleMs:F1} ms)"));
        Console.WriteLine($"total work {Ms(s.SequentialTime)} on one thread (predicted), critical path {Ms(s.CriticalPathLength)} over {s.CriticalPath.Length} nodes");
        double ratio = s.CriticalPathLength > 0 ? s.SequentialTime / s.CriticalPathLength : 1;
        Console.WriteLine(string.Create(Inv, $"bound on speedup: min(P, work / critical path) = min({s.Workers}, {ratio:F2}) = {s.SpeedupBound:F2}"));
        Console.WriteLine(string.Create(Inv, $"schedule: predicted makespan {Ms(s.PredictedMakespan)}, predicted speedup {s.PredictedSpeedup:F2}x ({100 * s.PredictedSpeedup / s.SpeedupBound:F0}% of the bound)"));
        var busy = s.WorkerBusy();
        Console.WriteLine("load balance: " + string.Join(", ", busy.Select((b, w) =>
            string.Create(Inv, $"worker {w} busy {Ms(b)} ({100 * b / Math.Max(s.PredictedMakespan, 1e-12):F0}%)"))));
        var clusters = s.Clusters;
        if (clusters.Length > 0)
            Console.WriteLine($"clusters: {clusters.Length} linear clusters, largest {clusters.Max(c => c.Length)} nodes; heaviest: {Ms(clusters[0].Sum(df.Graph.Weight))} over {clusters[0].Length} nodes");
        Console.WriteLine($"stages: {s.Stages.Count} ({s.Stages.Count(x => x.IsParallel)} parallel, {s.Stages.Count(x => !x.IsParallel)} wide)");
        foreach (var (stage, i) in s.Stages.Select((x, i) => (x, i)))
        {
            var nodes = stage.Nodes.ToArray();
            double begin = nodes.Min(v => s.Start[v]), end = nodes.Max(v => s.Finish[v]);
            // A parallel stage against what its nodes would take one after another, each split over every thread: the
            // scheduler keeps a stage parallel only when it is predicted faster.
            string lists = "";
            if (stage.IsParallel)
            {
                double split = nodes.Sum(v => df.WideWeights[v]);
                lists = "  " + string.Join(" | ", stage.WorkerNodes.Select((l, w) => $"w{w}: {l.Length} nodes {Ms(l.Sum(df.Graph.Weight))}"))
                    + string.Create(Inv, $"  (split instead: {Ms(split)}, {100 * (1 - (end - begin) / Math.Max(split, 1e-12)):F0}% saved)");
            }
            Console.WriteLine($"  stage {i,3} {(stage.IsParallel ? "parallel" : "wide    ")} {nodes.Length,4} nodes {Ms(end - begin),10}{lists}");
        }
        Console.WriteLine("critical path: " + string.Join(" -> ", s.CriticalPath.Take(12).Select(v => df.Labels[v])) + (s.CriticalPath.Length > 12 ? $" -> … ({s.CriticalPath.Length - 12} more)" : ""));
    }

    /// <summary>Whether runs split the batch (hyperclustering), and what that is predicted to gain.</summary>
    public void PrintSplit(string? whyNot)
    {
        if (plan.Hyper is { } h)
            Console.WriteLine(string.Create(Inv, $"hyperclustering: {h.BatchSymbol} split into sub-batches [{string.Join(", ", h.SubBatches)}], one copy of the graph each, which the workers claim in turn{(h.HasTail ? $" up to {h.TailNode}, which and every node after it run once on the whole batch with every thread (its weights stream from memory once, not once per copy)" : "")}: predicted {Ms(h.PredictedMakespan)}, speedup {h.PredictedSpeedup:F2}x (the schedule above: {plan.Schedule.PredictedSpeedup:F2}x)"));
        else Console.WriteLine($"hyperclustering: no ({whyNot ?? "the schedule is predicted faster, or the batch is 1"})");
    }

    /// <param name="nodeMs">Median per node of the one-thread sequential run.</param>
    /// <param name="wideNodeMs">Median per node of the sequential run with every thread (each node split over all of them).</param>
    /// <param name="scheduledNodeMs">Median per node of the scheduled run (with its threads, beside the nodes of its stage).</param>
    public void PrintMeasured(double oneMs, double allMs, double scheduledMs, int threads, Dictionary<string, double> nodeMs, Dictionary<string, double> wideNodeMs,
        Dictionary<string, double> scheduledNodeMs)
    {
        var s = plan.Schedule;
        var df = plan.Dataflow;
        double speedup = oneMs / scheduledMs;
        Console.WriteLine(string.Create(Inv, $"measured (medians): sequential 1 thread {oneMs:F2} ms, sequential {threads} threads {allMs:F2} ms, {(plan.Hyper is null ? "scheduled" : "split batch")} {scheduledMs:F2} ms"));
        Console.WriteLine(string.Create(Inv, $"measured speedup over sequential (1 thread): {speedup:F2}x = {100 * speedup / s.SpeedupBound:F0}% of the bound; predicted {plan.Hyper?.PredictedSpeedup ?? s.PredictedSpeedup:F2}x"));
        double predictedTotal = 0, measuredTotal = 0, predictedWide = 0, measuredWide = 0;
        string all = $"{threads}T";
        Console.WriteLine($"{"node",-40} {"op",-18} {"worker",6} {"threads",7} {"start ms",9} {"pred 1T",8} {"meas 1T",8} {"pred " + all,8} {"meas " + all,8} {"pred run",8} {"meas run",8}");
        foreach (var v in Enumerable.Range(0, df.Graph.Count).OrderBy(v => s.Start[v]).ThenBy(v => v))
        {
            double measured = nodeMs.GetValueOrDefault(df.Labels[v], double.NaN), wide = wideNodeMs.GetValueOrDefault(df.Labels[v], double.NaN);
            double run = scheduledNodeMs.GetValueOrDefault(df.Labels[v], double.NaN);
            predictedTotal += df.Costs[v].Seconds * 1000;
            predictedWide += df.WideWeights[v] * 1000;
            if (!double.IsNaN(measured)) measuredTotal += measured;
            if (!double.IsNaN(wide)) measuredWide += wide;
            string label = df.Labels[v].Length > 40 ? "…" + df.Labels[v][^39..] : df.Labels[v];
            Console.WriteLine(string.Create(Inv,
                $"{label,-40} {df.OpTypes[v],-18} {(s.Threads[v] > 1 ? "all" : s.WorkerOf[v].ToString(Inv)),6} {s.Threads[v],7} {s.Start[v] * 1000,9:F3} {df.Costs[v].Seconds * 1000,8:F3} {measured,8:F3} {df.WideWeights[v] * 1000,8:F3} {wide,8:F3} {(s.Finish[v] - s.Start[v]) * 1000,8:F3} {run,8:F3}"));
        }
        Console.WriteLine(string.Create(Inv, $"sum of node times: one thread predicted {predictedTotal:F2} ms, measured {measuredTotal:F2} ms; {threads} threads each predicted {predictedWide:F2} ms, measured {measuredWide:F2} ms"));
    }
}
