using System.Diagnostics;
using System.Globalization;
using Loom.Streams.Graph;
using Loom.Streams.Models;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom stream MODEL.onnx --inputs N --cores C [--stages K] [--items-per-firing B] [--dim NAME=SIZE] [--show graph|partition] [--dot FILE]</c>:
/// lowers the model into a stream graph of stage filters, runs N made-up inputs through it and prints the plan
/// (stages, copies, predicted against measured time per stage) and the measured throughput.
/// </summary>
internal static class ModelStreamCommand
{
    public static int Run(string model, int inputs, int cores, int? stages, Dictionary<string, long> dims, long maxFold, string? show, string? dot, bool checksum = false,
        Dictionary<string, string>? feedback = null, string? trace = null, int? itemsPerFiring = null)
    {
        if (inputs < 1) throw new InputException("--inputs must be at least 1");
        var inv = CultureInfo.InvariantCulture;
        using var stream = ModelStream.Load(model, new ModelStreamOptions
        {
            Cores = cores, Stages = stages, Dims = dims.Count > 0 ? dims : null, MaxFoldedTensorBytes = maxFold, Feedback = feedback is { Count: > 0 } ? feedback : null,
            ItemsPerFiring = itemsPerFiring,
        });
        // Fed-back inputs come from the item before (zeros for the first), not from the made-up items.
        var items = StreamInputs.Items(stream.Inputs.Where(i => feedback?.ContainsValue(i.Name) != true), dims, inputs);
        if (stream.Plan is null) // sizes from the first item: plan by streaming it alone
            foreach (var r in stream.Stream(items.Take(1))) r.Dispose();
        var plan = stream.Plan!;
        if (dot is not null) Loom.IO.AtomicFile.WriteAllText(dot, GraphText.Dot(stream.StreamGraph!));
        Console.Write(plan.Describe());
        if (show is not null)
        {
            Console.Write(GraphText.Text(stream.StreamGraph!));
            return 0;
        }
        foreach (var r in stream.Stream(items.Take(Math.Min(inputs, 2 * plan.Workers)))) r.Dispose(); // warm-up: code, buffers
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        double sum = 0;
        long index = 0;
        var runTrace = trace is null ? null : new RunTrace();
        foreach (var r in stream.Stream(items, runTrace))
        {
            if (checksum) foreach (var o in r) if (o.Value is Tensor t) sum += ClusterStreamCommand.Checksum(t, index);
            index++;
            r.Dispose();
        }
        double wall = sw.Elapsed.TotalSeconds;
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / inputs;
        var stats = stream.LastStats!;
        foreach (var s in plan.Stages)
            Console.WriteLine(string.Create(inv,
                $"  stage{s.Index}: predicted {s.PredictedSeconds * 1e3:F2} ms/item, measured {stats.StageBusySeconds[s.Index] / stats.Items * 1e3:F2} ms/item (busy time per item over its {s.Replicas} copies)"));
        Console.WriteLine(string.Create(inv,
            $"{inputs} inputs in {wall:F3} s = {inputs / wall:F2} items/s measured, {plan.PredictedItemsPerSecond:F2} predicted (wall clock; load average {LoadAverage()}); process CPU {cpuMs:F2} ms per item"));
        if (checksum) Console.WriteLine(string.Create(inv, $"checksum {sum:R}"));
        if (trace is not null)
        {
            runTrace!.WriteChromeJson(trace);
            Console.WriteLine($"wrote {trace}: each item's time in each stage, one track per thread");
        }
        return 0;
    }

    internal static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }
}
