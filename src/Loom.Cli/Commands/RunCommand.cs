using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Loom.Import.Onnx;
using Loom.Runtime;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom run MODEL --input NAME=FILE.npy|FILE.pb ... [--dim batch=4] [--out DIR] [--repeat N] [--threads N] [--trace FILE.json]</c>.
/// Without <c>--input</c> it feeds the deterministic input x[i] = i/n.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var inputs = CliInputs.Inputs();
        var dims = CliOptions.Dims();
        var outDir = new Option<string?>("--out") { Description = "write each output as DIR/NAME.npy" };
        var repeat = new Option<int>("--repeat") { Description = "after a warm-up, time N runs and print the median and minimum latency" };
        var threads = CliInputs.Threads();
        var sequential = CliInputs.Sequential();
        var interOpOnly = CliInputs.InterOpOnly();
        var trace = CliInputs.Trace();
        var cmd = new Command("run", "run a model on inputs from files (or the deterministic input) and write or print its outputs")
            { model, inputs, dims, outDir, repeat, threads, sequential, interOpOnly, trace };
        cmd.SetAction(parse => CliOptions.Guard(() =>
        {
            var d = CliOptions.ParseDims(parse.GetValue(dims));
            return Run(parse.GetValue(model)!, parse.GetValue(inputs) ?? [], d, parse.GetValue(outDir), parse.GetValue(repeat),
                CliInputs.Options(parse.GetValue(threads), parse.GetValue(sequential), parse.GetValue(interOpOnly), d), parse.GetValue(trace));
        }));
        return cmd;
    }

    private static int Run(string path, string[] inputSpecs, Dictionary<string, long> dims, string? outDir, int repeat, LoomSessionOptions options, string? tracePath)
    {
        using var session = LoomSession.Load(path, options);
        var feeds = CliInputs.Feeds(session, inputSpecs, dims);

        RunResult result = session.Run(feeds);
        if (repeat > 0)
        {
            JitWarmUp.Run(() => session.Run(feeds).Dispose());
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

        if (tracePath is not null)
        {
            if (repeat <= 0) JitWarmUp.Run(() => session.Run(feeds).Dispose()); // a steady run's trace, not the JIT's first pass
            var trace = new RunTrace();
            session.Run(feeds, trace).Dispose();
            trace.WriteChromeJson(tracePath);
            Console.WriteLine($"trace of one run ({trace.Events.Count} nodes) -> {tracePath}");
        }

        if (outDir is not null) Directory.CreateDirectory(outDir);
        foreach (var (name, value) in result)
        {
            if (outDir is not null)
            {
                if (value is MapSequence or MapValue)
                {
                    // Maps have no .npy form: written as ONNX's SequenceProto/MapProto.
                    var pb = Path.Combine(outDir, SafeFileName(name) + ".pb");
                    Loom.IO.AtomicFile.Write(pb, s => s.Write(ValueProtos.Write(value, name)));
                    Console.WriteLine($"{name}: {value.Type} -> {pb}");
                    continue;
                }
                if (value is not Tensor t) throw new UnsupportedException($"output '{name}' is {value.Type}; only tensors can be written as .npy");
                var file = Path.Combine(outDir, SafeFileName(name) + ".npy");
                Npy.Write(t, file);
                Console.WriteLine($"{name}: {t.DataType.Name()}{ShapeMath.Format(t.Shape)} -> {file}");
            }
            else Console.WriteLine($"{name}: {Summary(value)}");
        }
        return 0;
    }

    /// <summary>ZipMap's output: one line per map (the first 8), as {label: score, ...}.</summary>
    private static string MapSummary(MapSequence maps)
    {
        string Map(MapValue m) => "{" + string.Join(", ", Enumerable.Range(0, m.Count).Select(i =>
            $"{(m.KeyType == DataType.String ? $"\"{m.KeyText(i)}\"" : m.KeyText(i))}: {m.Values[i].ToString("G6", CultureInfo.InvariantCulture)}")) + "}";
        var lines = maps.Items.Take(8).Select((m, i) => $"\n  [{i}] {Map(m)}");
        return $"{maps.Type} of {maps.Count} maps{string.Concat(lines)}{(maps.Count > 8 ? "\n  …" : "")}";
    }

    private static string SafeFileName(string name) =>
        string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_'));

    private static string Summary(LoomValue v)
    {
        if (v is MapSequence maps) return MapSummary(maps);
        if (v is not Tensor t) return v.Type.ToString() ?? "?";
        var head = Enumerable.Range(0, Math.Min(8, t.Length)).Select(i =>
            t.DataType == DataType.String ? t.AsSpan<string>()[i] : t.GetDouble(i).ToString("G6", CultureInfo.InvariantCulture));
        return $"{t.DataType.Name()}{ShapeMath.Format(t.Shape)} [{string.Join(", ", head)}{(t.Length > 8 ? ", …" : "")}]";
    }
}
