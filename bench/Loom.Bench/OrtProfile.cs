using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Loom.Bench;

/// <summary>
/// <c>ort-profile MODEL.onnx [--threads T] [--runs N] [--shape NAME=D,...]</c>: ONNX Runtime's own per-node profile
/// (mean kernel time per run, slowest first), to set beside <c>profile MODEL --nodes</c> and see which nodes
/// ONNX Runtime runs faster inside the whole model (its layout conversions and fusions included).
/// </summary>
internal static class OrtProfile
{
    public static int Run(string[] args)
    {
        var o = BenchOptions.Parse(args, defaultRuns: 20);
        string path = o.Positional[0];
        var prefix = Path.Combine(Path.GetTempPath(), $"ort-profile-{Environment.ProcessId}");
        using var so = new SessionOptions { IntraOpNumThreads = o.Threads, InterOpNumThreads = 1, ExecutionMode = Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL };
        so.EnableProfiling = true;
        so.ProfileOutputPathPrefix = prefix;
        using var loom = LoomSession.Load(path, new LoomSessionOptions { IntraOpThreads = 1 });
        var feeds = ModelBench.Inputs(loom, o);
        using var ort = new InferenceSession(path, so);
        var names = feeds.Keys.ToArray();
        var values = names.Select(n => { var t = (Tensor)feeds[n]; return OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.Shape.ToArray().Select(d => (long)d).ToArray()); }).ToArray();
        using var ro = new RunOptions();
        for (int i = 0; i < 5; i++) ort.Run(ro, names, values, ort.OutputNames).Dispose();
        var file = ort.EndProfiling(); // the warm-up runs are in the file too: only the last o.Runs are counted below
        using var ort2 = new InferenceSession(path, so);
        for (int i = 0; i < 3; i++) ort2.Run(ro, names, values, ort2.OutputNames).Dispose();
        for (int i = 0; i < o.Runs; i++) ort2.Run(ro, names, values, ort2.OutputNames).Dispose();
        file = ort2.EndProfiling();
        var totals = new Dictionary<string, (double Us, int Count)>();
        var samples = new Dictionary<string, List<double>>();
        using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node") continue;
                var name = e.GetProperty("name").GetString()!;
                if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                string op = e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var opn) ? opn.GetString()! : "";
                var key = $"{op} {name[..^"_kernel_time".Length]}";
                var (us, n) = totals.GetValueOrDefault(key);
                double dur = e.GetProperty("dur").GetDouble();
                totals[key] = (us + dur, n + 1);
                if (!samples.TryGetValue(key, out var list)) samples[key] = list = [];
                list.Add(dur);
            }
        File.Delete(file);
        int runs = o.Runs + 3;
        double sum = totals.Values.Sum(v => v.Us) / runs / 1e3;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(path)}  onnxruntime  threads {o.Threads}  sum of node times {sum:F2} ms per run"));
        // Mean, the median over runs (a node preempted by another process in a few runs moves the mean, not the median) and the
        // fastest run (as `profile --min`, to set beside Loom's on a shared machine).
        foreach (var (key, (us, _)) in totals.OrderByDescending(kv => kv.Value.Us))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {key,-60} {us / runs / 1e3,9:F3} ms  median {Median(samples[key]) / 1e3,7:F3} ms  min {samples[key].Min() / 1e3,7:F3} ms"));
        foreach (var g in totals.GroupBy(kv => kv.Key.Split(' ')[0]).OrderByDescending(g => g.Sum(kv => kv.Value.Us)))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  total {g.Key,-24} {g.Sum(kv => kv.Value.Us) / runs / 1e3,9:F3} ms"));
        foreach (var v in values) v.Dispose();
        return 0;
    }

    private static double Median(List<double> v) => v.Count == 0 ? 0 : BenchOptions.Median(v);
}
