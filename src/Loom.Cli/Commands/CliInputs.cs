using System.CommandLine;
using Loom.Conformance;
using Loom.Import.Onnx;

namespace Loom.Cli.Commands;

/// <summary>Inputs and execution options shared by the commands that run a model.</summary>
internal static class CliInputs
{
    public static Option<string[]> Inputs() => new("--input") { Description = "NAME=FILE.npy or NAME=FILE.pb (repeatable); inputs not given get x[i] = i/n" };

    public static Option<int> Threads() => new("--threads") { Description = "threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };

    public static Option<bool> Sequential() => new("--sequential") { Description = "run nodes one by one in graph order (each with every thread) instead of as scheduled" };

    public static Option<bool> InterOpOnly() => new("--inter-op-only") { Description = "scheduled, but every node gets one thread: parallelism between nodes only" };

    public static Option<string?> Trace() => new("--trace") { Description = "write a Chrome/Perfetto trace (FILE.json) of a run, one track per worker" };

    /// <summary>Session options; <c>--dim batch=B</c> also lets a model exported for one sample run on a batch.</summary>
    public static LoomSessionOptions Options(int threads, bool sequential, bool interOpOnly, Dictionary<string, long> dims) => new()
    {
        IntraOpThreads = threads,
        ExecutionMode = sequential ? ExecutionMode.Sequential : ExecutionMode.Parallel,
        InterOpOnly = interOpOnly,
        GeneralizeBatch = dims.ContainsKey("batch"),
    };

    /// <summary>Each input from its file when given, else the deterministic x[i] = i/n at the given dims.</summary>
    public static Dictionary<string, LoomValue> Feeds(LoomSession session, string[] inputSpecs, Dictionary<string, long> dims)
    {
        var feeds = new Dictionary<string, LoomValue>();
        foreach (var spec in inputSpecs)
        {
            var eq = spec.IndexOf('=');
            if (eq <= 0) throw new InputException($"--input '{spec}' must look like NAME=FILE");
            string name = spec[..eq], file = spec[(eq + 1)..];
            var meta = session.Inputs.FirstOrDefault(i => i.Name == name)
                ?? throw new InputException($"the model has no input '{name}' (inputs: {string.Join(", ", session.Inputs.Select(i => i.Name))})");
            feeds[name] = file.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? Npy.Read(file) : ValueProtos.ReadFile(file, meta.Type);
        }
        foreach (var i in session.Inputs)
            if (!feeds.ContainsKey(i.Name))
                feeds[i.Name] = ConformanceRunner.DeterministicInput(i, s => dims.TryGetValue(s, out var v) ? v : null);
        return feeds;
    }
}
