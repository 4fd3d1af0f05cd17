using System.Globalization;
using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.Passes;
using Microsoft.ML.OnnxRuntime;

namespace Loom.Bench;

/// <summary>
/// End-to-end: a model in Loom and in ONNX Runtime in one process, same inputs, same thread count,
/// median latency of each and their ratio. --fuse applies Loom's Conv+activation fusion first.
/// </summary>
internal static class ModelBench
{
    public static int Run(string[] args)
    {
        var o = BenchOptions.Parse(args);
        string path = o.Positional[0];
        var options = new LoomSessionOptions { IntraOpThreads = o.Threads, MaxFoldedTensorBytes = o.FoldBytes ?? ConstantFolding.DefaultMaxTensorBytes };
        var model = OnnxImporter.Load(path, options);
        if (o.Fuse) model = Passes.FuseConvActivation.Run(model);
        using var loom = LoomSession.Create(model, options);
        var feeds = Inputs(loom, o);

        using var ortOptions = new SessionOptions { IntraOpNumThreads = o.Threads, InterOpNumThreads = 1, ExecutionMode = Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL };
        using var ort = new InferenceSession(path, ortOptions);
        var names = feeds.Keys.ToArray();
        var ortValues = names.Select(n =>
        {
            var t = (Tensor)feeds[n];
            return OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.Shape.ToArray().Select(d => (long)d).ToArray());
        }).ToArray();
        using var runOptions = new RunOptions();

        if (o.Only is { } only)
        {
            Action run = only == "ort" ? () => ort.Run(runOptions, names, ortValues, ort.OutputNames).Dispose() : () => loom.Run(feeds).Dispose();
            bool cpuOnly = o.Cpu && o.Threads == 1 && ThreadCpuClock.Available;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{only} median {BenchOptions.MedianMs(run, o.Runs, cpuOnly):F2} ms{(cpuOnly ? " thread CPU time" : "")}"));
            return 0;
        }
        // Alternate the two runtimes so a neighbour's load on this shared machine hits both alike.
        bool cpu = o.Cpu && o.Threads == 1 && ThreadCpuClock.Available;
        if (Environment.GetEnvironmentVariable("LOOM_BENCH_BETWEEN") is { } between)
            return BetweenRuns.Run(() => loom.Run(feeds).Dispose(), () => ort.Run(runOptions, names, ortValues, ort.OutputNames).Dispose(), between, o.Runs);
        var (loomMs, ortMs) = BenchOptions.InterleavedMedians(() => loom.Run(feeds).Dispose(),
            () => ort.Run(runOptions, names, ortValues, ort.OutputNames).Dispose(), o.Runs, cpu);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(path)}  threads {o.Threads}  runs {o.Runs}{(o.Fuse ? "  fused" : "")}{(cpu ? "  thread CPU time" : "")}\n  loom median {loomMs:F2} ms\n  onnxruntime median {ortMs:F2} ms\n  ratio loom/ort {loomMs / ortMs:F2}"));
        foreach (var v in ortValues) v.Dispose();
        return 0;
    }

    /// <summary>x[i] = i/n for every input; symbolic dims from --dim, or whole shapes from --shape.</summary>
    public static Dictionary<string, LoomValue> Inputs(LoomSession session, BenchOptions o) =>
        session.Inputs.ToDictionary(i => i.Name, i => (LoomValue)(o.Shapes.TryGetValue(i.Name, out var shape)
            ? Ramp(shape)
            : ConformanceRunner.DeterministicInput(i, s => o.Dims.TryGetValue(s, out var v) ? v : null)));

    private static Tensor Ramp(int[] shape)
    {
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)i / data.Length;
        return Tensor.FromArray(data, shape);
    }
}
