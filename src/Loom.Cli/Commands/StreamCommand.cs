using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Graph;
using Loom.Streams.Scheduling;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom stream PROGRAM.str [MORE.str…] [--cores N] [--iterations K] [--no-print] [--show graph|schedule|partition] [--dot FILE]</c>:
/// compiles a StreamIt program and runs it; <c>loom stream MODEL.onnx --inputs N --cores C [--stages K]</c> runs a
/// model over a stream of inputs (<c>--items-per-firing B</c>: each stage copy runs B items as one batch) (<see cref="ModelStreamCommand"/>). Output closed early (a pipe into head) ends the run quietly.
/// </summary>
internal static class StreamCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("program") { Description = "one or more StreamIt .str files making one program", Arity = ArgumentArity.OneOrMore };
        var cores = new Option<int>("--cores") { Description = "cores to run on (default 1)", DefaultValueFactory = _ => 1 };
        var iterations = new Option<long?>("--iterations") { Description = "steady states to run (default: until the output is closed)" };
        var noPrint = new Option<bool>("--no-print") { Description = "fold printed values into a checksum instead of printing (for timing)" };
        var show = new Option<string?>("--show") { Description = "print the stream graph, the schedule, the partition or the fused one-core program instead of running" };
        show.AcceptOnlyFromAmong("graph", "schedule", "partition", "fused");
        var dot = new Option<string?>("--dot") { Description = "write the stream graph as Graphviz dot to FILE" };
        var top = new Option<string?>("--top") { Description = "the top-level stream (default: the one void->void stream nothing adds)" };
        var inputs = new Option<int>("--inputs") { Description = "MODEL.onnx: inputs to stream through the model (default 64)", DefaultValueFactory = _ => 64 };
        var stages = new Option<int?>("--stages") { Description = "MODEL.onnx: pipeline stages (default: the cost model chooses)" };
        var dims = CliOptions.Dims();
        var maxFold = new Option<long>("--max-fold-bytes") { Description = "MODEL.onnx: largest tensor constant folding may create (default 64 KiB)", DefaultValueFactory = _ => Loom.Streams.Models.ModelStreamOptions.DefaultMaxFoldedTensorBytes };
        var emitStr = new Option<string?>("--emit-str") { Description = "MODEL.onnx: write the model's stream graph as a StreamIt program to FILE instead of running" };
        var randomWeights = new Option<int?>("--random-weights") { Description = "MODEL.onnx with --emit-str: replace the weights by pseudo-random ones from this seed, computed by the program (a small file)" };
        var cluster = new Option<string?>("--cluster") { Description = "MODEL.onnx: a pipeline of --stages stages on a Loom cluster's silos: its PostgreSQL connection string, or localhost[:GATEWAY] (docs/cluster.md)" };
        var window = new Option<int>("--window") { Description = "MODEL.onnx --cluster: items in flight (default two per stage)" };
        var chunk = new Option<int>("--chunk-bytes") { Description = "MODEL.onnx --cluster: largest tensor message sent to a silo", DefaultValueFactory = _ => 4 << 20 };
        var outDir = new Option<string?>("--out") { Description = "MODEL.onnx --cluster: write each item's outputs as DIR/item-NNNNN.OUTPUT.npy" };
        var feedback = new Option<string[]>("--feedback") { Description = "MODEL.onnx: recurrent state, OUTPUT=INPUT: each item's OUTPUT is the next item's INPUT (zeros for the first); repeatable" };
        var trace = CliInputs.Trace();
        var perFiring = new Option<int?>("--items-per-firing") { Description = "MODEL.onnx: items each stage copy runs as one batch (default: the cost model chooses per stage; 1 = one at a time)" };
        var checksum = new Option<bool>("--checksum") { Description = "MODEL.onnx: also print a checksum of every float output (a place-weighted sum, to compare with a --cluster run)" };
        var cmd = new Command("stream", "compile and run a StreamIt program, or run an ONNX model over a stream of inputs")
            { files, cores, iterations, noPrint, show, dot, top, inputs, stages, dims, maxFold, emitStr, randomWeights, cluster, window, chunk, outDir, checksum, feedback, trace, perFiring };
        cmd.SetAction(parse => CliOptions.Guard(() => parse.GetValue(files)! is [var m] && m.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
            ? parse.GetValue(emitStr) is { } str ? EmitStr(m, str, CliOptions.ParseDims(parse.GetValue(dims)), parse.GetValue(randomWeights))
            : parse.GetValue(cluster) is { } clusterDb
                ? ClusterStreamCommand.Run(m, clusterDb, parse.GetValue(stages) ?? throw new InputException("--cluster needs --stages K"), parse.GetValue(inputs),
                    CliOptions.ParseDims(parse.GetValue(dims)), parse.GetValue(window), parse.GetValue(chunk), parse.GetValue(outDir))
                : ModelStreamCommand.Run(m, parse.GetValue(inputs), Math.Max(1, parse.GetValue(cores) is var c and > 0 ? c : throw new InputException("--cores must be at least 1")),
                parse.GetValue(stages), CliOptions.ParseDims(parse.GetValue(dims)), parse.GetValue(maxFold), parse.GetValue(show), parse.GetValue(dot), parse.GetValue(checksum),
                CliOptions.ParsePairs("--feedback", parse.GetValue(feedback)), parse.GetValue(trace), parse.GetValue(perFiring))
            : Run(parse.GetValue(files)!, parse.GetValue(cores), parse.GetValue(iterations),
                parse.GetValue(noPrint), parse.GetValue(show), parse.GetValue(dot), parse.GetValue(top), parse.GetValue(trace))));
        return cmd;
    }

    private static int EmitStr(string model, string path, IReadOnlyDictionary<string, long>? dims, int? seed)
    {
        var r = Loom.Streams.Models.Emit.StrEmitter.Emit(model, new Loom.Streams.Models.Emit.StrEmitOptions { Dims = dims, RandomWeightSeed = seed });
        Loom.IO.AtomicFile.WriteAllText(path, r.Source);
        Console.Error.WriteLine($"wrote {path}: {r.Source.Length / 1024} KiB, input '{r.Input}' [{string.Join(",", r.InputShape)}], {r.Outputs.Sum(o => o.Shape.Aggregate(1, (a, b) => a * b))} output values per item");
        return 0;
    }

    /// <summary>Writes the run's unit spans (also when the output closed early); says on stderr what it holds.</summary>
    private static void WriteTrace(RunTrace t, string path)
    {
        t.WriteChromeJson(path);
        int spans = t.Events.Count;
        Console.Error.WriteLine(spans == 0
            ? $"wrote {path}: no spans — this program ran on the ring or demand-driven runtime, which records no units"
            : $"wrote {path}: {spans} spans of fused units, one track per core{(t.Dropped > 0 ? $" ({t.Dropped} later ones dropped: use --iterations)" : "")}");
    }

    private static int Run(string[] files, int cores, long? iterations, bool noPrint, string? show, string? dot, string? top, string? trace = null)
    {
        if (cores < 1) throw new InputException("--cores must be at least 1");
        // The console stream ignores a broken pipe; a FileStream on descriptor 1 reports it, so a closed
        // output (loom stream P.str | head) ends the run instead of computing into the void.
        // A regular file (seekable) keeps the console stream: FileStream would write at its own offset and
        // not advance the descriptor's, which the shell shares with the next command.
        Stream raw = Console.OpenStandardOutput();
        if (!OperatingSystem.IsWindows())
        {
            var fd = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1);
            if (fd.CanSeek) fd.Dispose();
            else raw = fd;
        }
        var stdout = new StreamWriter(raw, new System.Text.UTF8Encoding(false), 1 << 16) { AutoFlush = false };
        var printer = new Printer(noPrint || show is not null ? null : stdout);
        try
        {
            var program = StreamProgram.Load(files, printer, top);
            if (dot is not null) Loom.IO.AtomicFile.WriteAllText(dot, GraphText.Dot(program.Graph));
            if (show is not null)
            {
                stdout.Write(show switch
                {
                    "graph" => GraphText.Text(program.Graph),
                    "schedule" => ScheduleText.Text(program) + ScheduleText.Mode(program, cores),
                    "fused" => FusedPlanText.Text(program),
                    _ => ScheduleText.Partition(program, cores),
                });
                stdout.Flush();
                return 0;
            }
            if (Environment.GetEnvironmentVariable("LOOM_STREAM_PROFILE") is { Length: > 0 })
            {
                var secs = program.Profile(iterations ?? 1000);
                foreach (var (a, t) in program.Flat.Actors.Zip(secs).OrderByDescending(x => x.Second).Take(15))
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{a.Name,-40} {t * 1000,10:F1} ms"));
                return 0;
            }
            if (trace is not null) program.Trace = new RunTrace();
            var sw = Stopwatch.StartNew();
            long done;
            try { done = program.Run(cores, iterations ?? long.MaxValue); }
            finally { if (program.Trace is { } t) WriteTrace(t, trace!); }
            if (noPrint)
            {
                double s = sw.Elapsed.TotalSeconds;
                long outputs = done * program.Schedule.OutputsPerSteadyState();
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{done} steady states, {outputs} outputs in {s:F3} s = {outputs / Math.Max(s, 1e-9):E3} outputs/s, checksum {printer.Checksum:x16}"));
            }
            stdout.Flush();
        }
        catch (StopRunException) { }
        catch (IOException) { }
        return 0;
    }
}
