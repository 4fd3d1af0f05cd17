using System.Globalization;
using Loom.Cluster.Hosting;
using Loom.Cluster.Pipelines;
using Loom.Streams.Models;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom stream MODEL.onnx --cluster CONNSTR --stages K [--inputs N] [--window W] [--chunk-bytes B] [--out DIR]</c>:
/// the model cut into K stages placed on different silos (<see cref="ClusterPipeline"/>), N made-up inputs streamed
/// through it; prints the plan, progress, items/s, per-stage figures and a checksum of the outputs (the same figure as
/// single-process <c>loom stream --checksum</c> prints for the same inputs).
/// </summary>
internal static class ClusterStreamCommand
{
    public static int Run(string model, string cluster, int stages, int inputs, Dictionary<string, long> dims, int window, int chunkBytes, string? outDir)
    {
        if (inputs < 1) throw new InputException("--inputs must be at least 1");
        return RunAsync().GetAwaiter().GetResult();

        async Task<int> RunAsync()
        {
            var inv = CultureInfo.InvariantCulture;
            await using var connection = await ClusterConnection.ConnectAsync(cluster);
            await using var pipeline = await ClusterPipeline.StartAsync(connection.Client, new PipelineRequest(model, stages, dims, window, chunkBytes), Console.Error.WriteLine);
            Console.Write(pipeline.Plan.Describe());
            if (outDir is not null) Directory.CreateDirectory(outDir);
            var items = Enumerable.Range(0, inputs).Select(i => (IReadOnlyDictionary<string, LoomValue>)StreamInputs.Item(pipeline.Inputs, dims, i));
            double checksum = 0;
            int every = Math.Max(1, inputs / 8);
            var result = await pipeline.RunAsync(items, (seq, outputs) =>
            {
                foreach (var (name, t) in outputs)
                {
                    checksum += Checksum(t, seq);
                    if (outDir is not null) Npy.Write(t, Path.Combine(outDir, $"item-{seq:D5}.{Sanitize(name)}.npy"));
                }
                if ((seq + 1) % every == 0 || seq + 1 == inputs) Console.Error.WriteLine($"{seq + 1}/{inputs} outputs");
            });
            foreach (var s in result.Stages)
                Console.WriteLine(string.Create(inv, $"  stage{s.Stage} on {s.Silos}: {s.Items} item calls, measured {s.BusySeconds / Math.Max(1, s.Items) * 1e3:F2} ms/item of model time"));
            Console.WriteLine(string.Create(inv,
                $"{result.Items} inputs in {result.Seconds:F3} s = {result.Items / result.Seconds:F2} items/s (wall clock; load average {ModelStreamCommand.LoadAverage()}); "
                + $"tensor messages {result.BytesSent:N0} bytes sent, {result.BytesReceived:N0} received; {result.Replacements} stage(s) placed again, {result.Replayed} item call(s) replayed, {result.DuplicatesDropped} duplicate(s) dropped"));
            Console.WriteLine(string.Create(inv, $"checksum {checksum:R}"));
            return 0;
        }
    }

    /// <summary>
    /// A float output's elements summed with weights that depend on the element's place and the item's, so a swapped
    /// element or item changes it (a plain sum of softmax outputs is the item count whatever they hold); 0 for other types.
    /// </summary>
    internal static double Checksum(Tensor t, long item)
    {
        if (t.DataType != DataType.Float) return 0;
        double sum = 0;
        var span = t.AsReadOnlySpan<float>();
        for (int k = 0; k < span.Length; k++) sum += span[k] * (1 + k % 97);
        return sum * (1 + item % 13);
    }

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' ? c : '_'));
}
