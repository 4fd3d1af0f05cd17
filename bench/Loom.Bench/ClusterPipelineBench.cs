using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Loom.Cluster.Tests.Support;

namespace Loom.Bench;

/// <summary>
/// `bench cluster --pipeline`: a model as a pipeline across local silo processes against single-process `loom stream`.
/// Starts a PostgreSQL and N silos here, runs `loom stream MODEL --inputs I --checksum` once (all cores, the cost
/// model's plan) and `loom stream MODEL --cluster ... --stages K` for K = 1..N, and prints items/s (wall clock, the
/// run only: start-up, probes and stage loading excluded), the ratio to the single process, bytes of tensor messages
/// and the checksum of every output, which must agree between all runs.
/// </summary>
internal static partial class ClusterPipelineBench
{
    public static int Run(string cli, string connectionString, int silos, string model, int inputs, int rounds)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"# {Path.GetFileName(model)}, {inputs} inputs; {silos} local silos, {Environment.ProcessorCount} cores; load {Load()}");
        Console.WriteLine("round  run                       items/s   ratio | MB sent  MB recv | stages on silos                     | checksum");
        for (int r = 0; r < rounds; r++)
        {
            var single = Loom(cli, "stream", model, "--inputs", inputs.ToString(inv), "--checksum");
            double baseline = ItemsPerSecond(single);
            string sum = Checksum().Match(single).Groups[1].Value;
            Console.WriteLine(string.Create(inv, $"{r + 1,5}  single process `loom stream` {baseline,9:F2}  {1,6:F2} |                 | {"",-35} | {sum}"));
            for (int k = 1; k <= silos; k++)
            {
                var output = Loom(cli, "stream", model, "--inputs", inputs.ToString(inv), "--cluster", connectionString, "--stages", k.ToString(inv));
                double rate = ItemsPerSecond(output);
                var bytes = Bytes().Match(output);
                string placed = string.Join(", ", StageLine().Matches(output).Select(m => m.Groups[1].Value));
                string clusterSum = Checksum().Match(output).Groups[1].Value;
                double a = double.Parse(sum, inv), b = double.Parse(clusterSum, inv);
                if (Math.Abs(a - b) > 1e-6 * Math.Max(1, Math.Abs(a))) throw new InvalidOperationException($"checksum {clusterSum} on the cluster, {sum} in one process");
                Console.WriteLine(string.Create(inv,
                    $"{r + 1,5}  cluster, {k} stage(s)        {rate,9:F2}  {rate / baseline,6:F2} | {MB(bytes.Groups[1].Value),7:F1}  {MB(bytes.Groups[2].Value),7:F1} | {placed,-35} | {clusterSum}"));
            }
        }
        Console.WriteLine($"# ratio = items/s / single-process items/s; checksums (place-weighted sums of every output element) agree; load {Load()}");
        return 0;
    }

    private static double MB(string s) => double.Parse(s.Replace(",", ""), CultureInfo.InvariantCulture) / 1e6;
    private static double ItemsPerSecond(string output) => double.Parse(Rate().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>Runs `loom` as a process; its stdout, or an exception with stderr when it fails.</summary>
    private static string Loom(string cli, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"loom {string.Join(' ', args.Take(2))} failed: {err.Result}");
        return output;
    }

    [GeneratedRegex(@"= ([\d.]+) items/s")]
    private static partial Regex Rate();

    [GeneratedRegex(@"checksum (\S+)")]
    private static partial Regex Checksum();

    [GeneratedRegex(@"tensor messages ([\d,]+) bytes sent, ([\d,]+) received")]
    private static partial Regex Bytes();

    [GeneratedRegex(@"^  stage(\d+: nodes \d+\.\.\d+ on \S+),", RegexOptions.Multiline)]
    private static partial Regex StageLine();
}
