using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Loom.Cluster.Tests.Support;
using Loom.Tests.Trees;
using Parquet;

namespace Loom.Bench;

/// <summary>
/// `bench cluster`: the cost of the cluster machinery. Scores the shared flights-3m.parquet (11 row groups
/// of 272,727 rows) with a LightGBM model of delay &gt; 15 min from distance, once with single-process
/// `loom score` and once with `loom score --cluster` over N local silo processes and a PostgreSQL started
/// here, all on this machine. Both are timed as processes, wall clock, client start-up included; the
/// outputs are compared row by row. Prints rows/s per silo and the bytes of tensor messages sent.
/// <c>--pipeline MODEL</c> (a light model's name or an .onnx path) instead streams <c>--inputs</c> inputs through
/// the model as a pipeline of 1..N stages on the silos, against single-process `loom stream` (<see cref="ClusterPipelineBench"/>).
/// </summary>
internal static partial class ClusterBench
{
    public static int Run(string[] args)
    {
        int silos = 3, trees = 150, runs = 1, inputs = 64;
        string? pipeline = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
            switch (args[i])
            {
                case "--pipeline": pipeline = args[i + 1]; break;
                case "--inputs": inputs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--silos": silos = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--trees": trees = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        string shared = SharedFolder.Root;
        string data = Path.Combine(shared, "data", "flights-3m.parquet");
        if (!File.Exists(data)) { Console.Error.WriteLine($"{data} not found (set LOOM_SHARED)"); return 2; }
        if (PostgresInstance.FindBin() is null) { Console.Error.WriteLine("PostgreSQL (initdb, pg_ctl) not found"); return 2; }

        // Loom.Cli is built by the project reference (not copied here: its Orleans dependencies clash with BenchmarkDotNet's).
        string config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        SiloProcess.CliPath = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../src/Loom.Cli/bin", config, "net10.0/Loom.Cli.dll"));
        if (!File.Exists(SiloProcess.CliPath)) { Console.Error.WriteLine($"{SiloProcess.CliPath} not found (build src/Loom.Cli -c {config})"); return 2; }
        string dir = Path.Combine(Path.GetTempPath(), "loom-bench-cluster-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        using var pg = PostgresInstance.Start();
        var running = new List<SiloProcess>();
        try
        {
            if (pipeline is not null)
            {
                string onnx = File.Exists(pipeline) ? pipeline : Path.Combine(shared, "onnx-backend-tests", "light", pipeline + ".onnx");
                if (!File.Exists(onnx)) { Console.Error.WriteLine($"{onnx} not found"); return 2; }
                Loom("cluster-init", "--cluster-db", pg.ConnectionString);
                for (int s = 0; s < silos; s++) running.Add(SiloProcess.Start(pg.ConnectionString, $"silo-{s + 1}", PostgresInstance.FreePort(), PostgresInstance.FreePort()));
                foreach (var s in running) s.WaitUp().GetAwaiter().GetResult();
                return ClusterPipelineBench.Run(SiloProcess.CliPath, pg.ConnectionString, silos, onnx, inputs, runs);
            }
            string model = Path.Combine(dir, "flights.txt");
            var (distance, delay) = ReadFlights(data, 50_000).GetAwaiter().GetResult();
            using (var booster = LightGbmNative.Train(distance, delay.Select(d => d > 15 ? 1f : 0f).ToArray(), distance.Length, 1,
                       "objective=binary num_leaves=63 learning_rate=0.05 verbose=-1 num_threads=1 seed=3", trees))
                File.WriteAllText(model, booster.ModelText());
            Loom("cluster-init", "--cluster-db", pg.ConnectionString);
            for (int s = 0; s < silos; s++) running.Add(SiloProcess.Start(pg.ConnectionString, $"silo-{s + 1}", PostgresInstance.FreePort(), PostgresInstance.FreePort()));
            foreach (var s in running) s.WaitUp().GetAwaiter().GetResult();

            Console.WriteLine($"# flights-3m.parquet (3,000,000 rows), LightGBM binary model, {trees} trees of <= 63 leaves, 1 feature; {Environment.ProcessorCount} cores; load {Load()}");
            Console.WriteLine("run  single s  rows/s   | cluster s  rows/s   ratio | per silo rows/s (busy)                    | MB sent  MB recv  re-run");
            for (int r = 0; r < runs; r++)
            {
                string single = Path.Combine(dir, "single.parquet"), clustered = Path.Combine(dir, "cluster.parquet");
                var clock = Stopwatch.StartNew();
                Loom("score", model, data, "--out", single, "--map", "Column_0=distance", "--no-progress");
                double singleSeconds = clock.Elapsed.TotalSeconds;
                clock.Restart();
                string err = Loom("score", model, data, "--out", clustered, "--map", "Column_0=distance", "--no-progress", "--cluster", pg.ConnectionString);
                double clusterSeconds = clock.Elapsed.TotalSeconds;
                Compare(single, clustered).GetAwaiter().GetResult();
                var perSilo = SiloLine().Matches(err).Select(m => $"{m.Groups[1].Value} {m.Groups[3].Value}").ToArray();
                var bytes = Bytes().Match(err);
                double sent = double.Parse(bytes.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture) / 1e6;
                double received = double.Parse(bytes.Groups[2].Value.Replace(",", ""), CultureInfo.InvariantCulture) / 1e6;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r + 1,3}  {singleSeconds,8:F2}  {3e6 / singleSeconds,8:N0} | {clusterSeconds,9:F2}  {3e6 / clusterSeconds,8:N0} {clusterSeconds / singleSeconds,5:F2} | {string.Join(", ", perSilo),-41} | {sent,7:F1}  {received,7:F1}  {bytes.Groups[3].Value,6}"));
            }
            Console.WriteLine("# outputs equal row by row in every run; ratio = cluster wall time / single-process wall time (both as processes)");
            return 0;
        }
        finally
        {
            foreach (var s in running) s.Dispose();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>Runs `loom` as a process; its stderr, or an exception with it when it fails.</summary>
    private static string Loom(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(SiloProcess.CliPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"loom {args[0]} failed: {err.Result}");
        return err.Result;
    }

    private static async Task Compare(string a, string b)
    {
        var x = await ReadColumn(a);
        var y = await ReadColumn(b);
        if (x.Length != y.Length) throw new InvalidOperationException($"{x.Length} rows single-process, {y.Length} on the cluster");
        for (int i = 0; i < x.Length; i++)
            if (BitConverter.SingleToInt32Bits(x[i]) != BitConverter.SingleToInt32Bits(y[i]))
                throw new InvalidOperationException($"row {i}: {x[i]:R} single-process, {y[i]:R} on the cluster");
    }

    private static async Task<float[]> ReadColumn(string path)
    {
        await using var fs = File.OpenRead(path);
        await using var r = await ParquetReader.CreateAsync(fs);
        var values = new List<float>();
        for (int g = 0; g < r.RowGroupCount; g++)
        {
            using var rg = r.OpenRowGroupReader(g);
            var v = new float[rg.RowCount];
            await rg.ReadAsync<float>(r.Schema.GetDataFields()[0], v, null, default);
            values.AddRange(v);
        }
        return values.ToArray();
    }

    private static async Task<(float[] Distance, float[] Delay)> ReadFlights(string path, int rows)
    {
        await using var fs = File.OpenRead(path);
        await using var r = await ParquetReader.CreateAsync(fs);
        var fields = r.Schema.GetDataFields();
        using var rg = r.OpenRowGroupReader(0);
        var d = new long?[rg.RowCount];
        var l = new long?[rg.RowCount];
        await rg.ReadAsync<long>(fields.First(f => f.Name == "distance"), d, null, default);
        await rg.ReadAsync<long>(fields.First(f => f.Name == "delay"), l, null, default);
        return (d.Take(rows).Select(v => v is { } x ? (float)x : float.NaN).ToArray(), l.Take(rows).Select(v => v is { } x ? (float)x : float.NaN).ToArray());
    }

    [GeneratedRegex(@"^\s+(\S+): (\d+) shards, [\d,]+ rows, ([\d,]+) rows/s while busy", RegexOptions.Multiline)]
    private static partial Regex SiloLine();

    [GeneratedRegex(@"tensor messages: ([\d,]+) bytes sent, ([\d,]+) received; (\d+) shard attempts re-run")]
    private static partial Regex Bytes();
}
