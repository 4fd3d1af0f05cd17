using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Loom.Cli.Scoring;
using Loom.Lowering.Trees;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom score MODEL DATA --out PREDS</c>: streams a CSV or Parquet file through a model in batches
/// (reading and parsing the next batch while the current one is scored on all cores) and writes the
/// predictions as CSV or Parquet. Memory is bounded by three batches; the output appears whole or not at all.
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        // MODEL, DATA and --out may be left out only with --resume, whose job remembers them.
        var model = new Argument<string?>("model") { Description = "an .onnx model, a LightGBM text model (.txt) or an XGBoost JSON model (.json)", Arity = ArgumentArity.ZeroOrOne };
        var data = new Argument<string?>("data") { Description = "a .csv (with a header row) or .parquet file", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<string?>("--out") { Description = "predictions file to write (.csv or .parquet)" };
        var map = new Option<string[]>("--map") { Description = "FEATURE=COLUMN: feed model feature FEATURE from data column COLUMN (repeatable)" };
        var batch = new Option<int>("--batch") { Description = "rows per batch", DefaultValueFactory = _ => 65536 };
        var skip = new Option<bool>("--skip-bad-rows") { Description = "write malformed rows to a reject file instead of stopping" };
        var rejects = new Option<string?>("--rejects") { Description = "reject file for --skip-bad-rows (default: OUT.rejects.csv)" };
        var threads = new Option<int>("--threads") { Description = "threads for scoring (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var strategy = new Option<TreeStrategy>("--strategy") { Description = "tree evaluation strategy (default: Auto)" };
        var numIteration = new Option<int>("--num-iteration") { Description = "LightGBM models: keep only the first N boosting rounds" };
        var noProgress = new Option<bool>("--no-progress") { Description = "do not draw a progress bar" };
        var cluster = new Option<string?>("--cluster") { Description = "score on a Loom cluster: its PostgreSQL connection string, or localhost[:GATEWAY] (docs/cluster.md)" };
        var resume = new Option<string?>("--resume") { Description = "with --cluster: finish job JOBID (shards already done are kept)" };
        var chunk = new Option<int>("--chunk-bytes") { Description = "with --cluster: largest tensor message sent to a silo", DefaultValueFactory = _ => 4 << 20 };
        var cmd = new Command("score", "score a CSV or Parquet file with a model, streaming in batches, and write the predictions")
            { model, data, output, map, batch, skip, rejects, threads, strategy, numIteration, noProgress, cluster, resume, chunk };
        cmd.SetAction(parse => CliOptions.Guard(() =>
        {
            if (parse.GetValue(cluster) is { } c)
            {
                if (parse.GetValue(skip)) throw new InputException("--skip-bad-rows is not supported with --cluster: a bad row stops the job, naming its shard");
                return ClusterScore.Run(c, new Loom.Cluster.Scoring.ClusterScoreRequest(parse.GetValue(model), parse.GetValue(data), parse.GetValue(output),
                    ParseMap(parse.GetValue(map)), (int)parse.GetValue(strategy), parse.GetValue(numIteration), parse.GetValue(resume), parse.GetValue(chunk)),
                    parse.GetValue(noProgress));
            }
            if (parse.GetValue(resume) is not null) throw new InputException("--resume needs --cluster");
            if (parse.GetValue(model) is not { } m || parse.GetValue(data) is not { } d) throw new InputException("score needs MODEL and DATA");
            if (parse.GetValue(output) is not { } o) throw new InputException("score needs --out PREDS");
            return Run(new Settings(m, d, o, ParseMap(parse.GetValue(map)), parse.GetValue(batch), parse.GetValue(skip), parse.GetValue(rejects), parse.GetValue(threads),
                parse.GetValue(strategy), parse.GetValue(numIteration), parse.GetValue(noProgress)));
        }));
        return cmd;
    }

    private sealed record Settings(string Model, string Data, string Out, Dictionary<string, string> Map, int Batch, bool SkipBadRows,
        string? Rejects, int Threads, TreeStrategy Strategy, int NumIteration, bool NoProgress);

    private static Dictionary<string, string> ParseMap(string[]? pairs)
    {
        var r = new Dictionary<string, string>();
        foreach (var p in pairs ?? [])
        {
            int eq = p.IndexOf('=');
            if (eq <= 0 || eq == p.Length - 1) throw new InputException($"--map '{p}' must look like FEATURE=COLUMN");
            r[p[..eq]] = p[(eq + 1)..];
        }
        return r;
    }

    private static int Run(Settings s)
    {
        if (s.Batch < 1) throw new InputException($"--batch must be positive, not {s.Batch}");
        if (!File.Exists(s.Data)) throw new InputException($"{s.Data}: no such file");
        var m = ModelFiles.Load(s.Model, s.NumIteration);
        using var session = LoomSession.Create(m, new LoomSessionOptions { IntraOpThreads = s.Threads, TreeStrategy = s.Strategy });
        if (session.Inputs.Length != 1 || session.Inputs[0] is not { ElementType: DataType.Float, Shape: { Rank: 2 } shape } input || shape[1].Value is null)
            throw new InputException($"{s.Model}: score needs a model with one float32 input of shape [N, F]; it has {string.Join(", ", session.Inputs)}");
        int features = (int)shape[1].Value!.Value;
        var names = m.Metadata.TryGetValue("feature_names", out var fn) && fn.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { } split && split.Length == features
            ? split : Enumerable.Range(0, features).Select(i => $"f{i}").ToArray();

        using IRowSource source = Path.GetExtension(s.Data).Equals(".parquet", StringComparison.OrdinalIgnoreCase)
            ? new ParquetRowSource(s.Data) : new CsvRowSource(s.Data, s.SkipBadRows);
        source.Map(FeatureMap.Resolve(names, source.Columns, s.Map, s.Data));
        using var writer = PredictionWriter.Create(s.Out);
        writer.OutputNames = session.Outputs.Select(o => o.Name).ToArray();
        using var rejectFile = s.SkipBadRows ? new AtomicFile(s.Rejects ?? s.Out + ".rejects.csv") : null;
        using var rejectWriter = rejectFile is null ? null : new StreamWriter(rejectFile.TempPath);
        rejectWriter?.WriteLine("row,reason,text");

        var clock = Stopwatch.StartNew();
        long scored = 0, rejected = 0;
        void Pump(Action<double, long>? progress)
        {
            // Three batches circulate: one being read, one being scored, one spare.
            using var free = new BlockingCollection<RowBatch>();
            using var full = new BlockingCollection<RowBatch>(2);
            for (int i = 0; i < 3; i++) free.Add(new RowBatch(s.Batch, features));
            var reader = Task.Run(() =>
            {
                try
                {
                    while (true)
                    {
                        var b = free.Take();
                        if (!source.Read(b)) break;
                        full.Add(b);
                    }
                }
                finally { full.CompleteAdding(); }
            });
            try
            {
                foreach (var b in full.GetConsumingEnumerable())
                {
                    foreach (var r in b.Rejected) rejectWriter!.WriteLine($"{r.Row},{Csv(r.Reason)},{Csv(r.Text)}");
                    rejected += b.Rejected.Count;
                    if (b.Rows > 0)
                    {
                        var x = b.Rows * features == b.Values.Length ? b.Values : b.Values.AsSpan(0, b.Rows * features).ToArray();
                        using var result = session.Run((input.Name, Tensor.FromArray(x, b.Rows, features)));
                        writer.Write(result.Select(o => o.Value as Tensor ?? throw new UnsupportedException($"output '{o.Name}' is not a tensor")).ToArray(), b.Rows);
                        scored += b.Rows;
                    }
                    free.Add(b);
                    progress?.Invoke(ScoredFraction(source, scored), scored);
                }
            }
            finally { free.CompleteAdding(); }
            try { reader.GetAwaiter().GetResult(); }
            catch (InvalidOperationException) when (free.IsAddingCompleted) { } // stopped early by a scoring error
        }

        if (!s.NoProgress && AnsiConsole.Profile.Capabilities.Interactive)
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("scoring", maxValue: 1);
                    Pump((fraction, rows) =>
                    {
                        task.Value = fraction;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"{rows:N0} rows, {rows / Math.Max(1e-9, clock.Elapsed.TotalSeconds):N0} rows/s");
                    });
                    task.Value = 1;
                });
        else Pump(null);

        if (scored == 0 && rejected == 0) writer.Write([], 0);
        writer.Commit();
        if (rejectWriter is not null)
        {
            rejectWriter.Dispose();
            rejectFile!.Commit();
        }
        double seconds = clock.Elapsed.TotalSeconds;
        string summary = string.Create(CultureInfo.InvariantCulture, $"scored {scored:N0} rows in {seconds:F2} s ({scored / Math.Max(1e-9, seconds):N0} rows/s) -> {s.Out}");
        if (rejected > 0) summary += string.Create(CultureInfo.InvariantCulture, $"; {rejected:N0} bad rows -> {rejectFile!.FinalPath}");
        Console.Error.WriteLine(summary);
        return 0;
    }

    /// <summary>
    /// Scored rows over the expected total: known for Parquet; for CSV estimated from the rows the reader
    /// has read and the share of the file they took (the reader runs ahead of scoring).
    /// </summary>
    private static double ScoredFraction(IRowSource source, long scored)
    {
        if (source.TotalRows is > 0 and var total) return Math.Min(1, (double)scored / total);
        double read = source.Progress;
        return read > 0 && source.RowsRead > 0 ? Math.Min(1, scored / (source.RowsRead / read)) : 0;
    }

    private static string Csv(string s) => "\"" + s.Replace("\"", "\"\"") + "\"";
}
