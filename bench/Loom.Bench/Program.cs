using System.Diagnostics;
using System.Globalization;
using Loom;
using Loom.Conformance;
using Microsoft.ML.OnnxRuntime;

// End-to-end model benchmark: Loom and ONNX Runtime in one run, same inputs, same thread count.
// Usage: dotnet run -c Release --project bench/Loom.Bench -- MODEL.onnx [--dim NAME=SIZE ...] [--runs N] [--threads T]
//        ... -- models [MODEL.onnx ...] --vs onnxruntime --threads 1,2 [--runs N] [--batch B]   (see ModelsBench)
if (args is ["models", .. var rest]) return Loom.Bench.ModelsBench.Run(rest);
var argsList = args.ToList();
if (argsList.Count == 0 || argsList[0].StartsWith('-'))
{
    Console.Error.WriteLine("usage: Loom.Bench MODEL.onnx [--dim NAME=SIZE ...] [--runs N] [--threads T]");
    return 2;
}
string path = argsList[0];
var dims = new Dictionary<string, long>();
int runs = 20, threads = 1;
for (int i = 1; i < argsList.Count - 1; i++)
{
    switch (argsList[i])
    {
        case "--dim": var kv = argsList[++i].Split('='); dims[kv[0]] = long.Parse(kv[1], CultureInfo.InvariantCulture); break;
        case "--runs": runs = int.Parse(argsList[++i], CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(argsList[++i], CultureInfo.InvariantCulture); break;
    }
}

using var loom = LoomSession.Load(path);
var feeds = loom.Inputs.ToDictionary(i => i.Name, i => (LoomValue)ConformanceRunner.DeterministicInput(i, s => dims.TryGetValue(s, out var v) ? v : null));

using var ortOptions = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL };
using var ort = new InferenceSession(path, ortOptions);
var names = feeds.Keys.ToArray();
var ortValues = names.Select(n => { var t = (Tensor)feeds[n]; return OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.Shape.ToArray().Select(d => (long)d).ToArray()); }).ToArray();
using var runOptions = new RunOptions();

double Median(Action run)
{
    run(); // warm-up
    var times = new double[runs];
    for (int k = 0; k < runs; k++)
    {
        var sw = Stopwatch.StartNew();
        run();
        times[k] = sw.Elapsed.TotalMilliseconds;
    }
    Array.Sort(times);
    return times[runs / 2];
}

double loomMs = Median(() => loom.Run(feeds).Dispose());
double ortMs = Median(() => ort.Run(runOptions, names, ortValues, ort.OutputNames).Dispose());
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{Path.GetFileName(path)}  threads {threads}  runs {runs}\n  loom median {loomMs:F2} ms\n  onnxruntime median {ortMs:F2} ms\n  ratio loom/ort {loomMs / ortMs:F2}"));
foreach (var v in ortValues) v.Dispose();
return 0;
