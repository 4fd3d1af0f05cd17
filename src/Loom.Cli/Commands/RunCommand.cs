using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Loom.Conformance;
using Loom.Import.Onnx;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom run MODEL --input NAME=FILE.npy|FILE.pb ... [--dim batch=4] [--out DIR] [--repeat N]</c>.
/// Without <c>--input</c> it feeds the deterministic input x[i] = i/n.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var inputs = new Option<string[]>("--input") { Description = "NAME=FILE.npy or NAME=FILE.pb (repeatable); inputs not given get x[i] = i/n" };
        var dims = CliOptions.Dims();
        var outDir = new Option<string?>("--out") { Description = "write each output as DIR/NAME.npy" };
        var repeat = new Option<int>("--repeat") { Description = "after a warm-up, time N runs and print the median and minimum latency" };
        var threads = new Option<int>("--threads") { Description = "threads per kernel (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("run", "run a model on inputs from files (or the deterministic input) and write or print its outputs") { model, inputs, dims, outDir, repeat, threads };
        cmd.SetAction(parse => CliOptions.Guard(() => Run(parse.GetValue(model)!, parse.GetValue(inputs) ?? [],
            CliOptions.ParseDims(parse.GetValue(dims)), parse.GetValue(outDir), parse.GetValue(repeat), parse.GetValue(threads))));
        return cmd;
    }

    private static int Run(string path, string[] inputSpecs, Dictionary<string, long> dims, string? outDir, int repeat, int threads)
    {
        using var session = LoomSession.Load(path, new LoomSessionOptions { IntraOpThreads = threads });
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

        RunResult result = session.Run(feeds);
        if (repeat > 0)
        {
            var times = new double[repeat];
            for (int k = 0; k < repeat; k++)
            {
                var sw = Stopwatch.StartNew();
                session.Run(feeds).Dispose();
                times[k] = sw.Elapsed.TotalMilliseconds;
            }
            Array.Sort(times);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"latency: median {times[repeat / 2]:F3} ms, min {times[0]:F3} ms ({repeat} runs)"));
        }

        if (outDir is not null) Directory.CreateDirectory(outDir);
        foreach (var (name, value) in result)
        {
            if (outDir is not null)
            {
                if (value is not Tensor t) throw new UnsupportedException($"output '{name}' is {value.Type}; only tensors can be written as .npy");
                var file = Path.Combine(outDir, SafeFileName(name) + ".npy");
                Npy.Write(t, file);
                Console.WriteLine($"{name}: {t.DataType.Name()}{ShapeMath.Format(t.Shape)} -> {file}");
            }
            else Console.WriteLine($"{name}: {Summary(value)}");
        }
        return 0;
    }

    private static string SafeFileName(string name) =>
        string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_'));

    private static string Summary(LoomValue v)
    {
        if (v is not Tensor t) return v.Type.ToString() ?? "?";
        var head = Enumerable.Range(0, Math.Min(8, t.Length)).Select(i =>
            t.DataType == DataType.String ? t.AsSpan<string>()[i] : t.GetDouble(i).ToString("G6", CultureInfo.InvariantCulture));
        return $"{t.DataType.Name()}{ShapeMath.Format(t.Shape)} [{string.Join(", ", head)}{(t.Length > 8 ? ", …" : "")}]";
    }
}
