using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Loom.Dynamic.Bench;

namespace Loom.Bench;

/// <summary>
/// TreeLSTM auto-batching: the DyNet rival (treelstm-dynet.sh) and Loom with the same arguments, configurations
/// interleaved (rival, Loom, rival, Loom …) so machine noise hits both alike; prints both lines and the ratio of
/// Loom's best policy to the rival's best of agenda and depth.
/// Usage: batch [--hidden 128,256,512] [--per-forward 64] [--mode root] [--loom static] [--rival agenda,depth]
///              [--seconds 1] [--count 1024] [--rounds 5] [--trees FILE]
/// </summary>
internal static class BatchBench
{
    public static int Run(string[] args)
    {
        var shared = Environment.GetEnvironmentVariable("LOOM_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath("../shared");
        string trees = Path.Combine(shared, "data", "sst", "train.txt");
        string rival = Path.Combine(shared, "rivals", "dynet", "treelstm-dynet.sh");
        int[] hidden = [128, 256, 512], perForward = [64];
        string[] loom = ["static"], rivals = ["agenda", "depth"];
        string mode = "root";
        double seconds = 1;
        int count = 1024, rounds = 5;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--hidden": hidden = Ints(v); break;
                case "--per-forward": perForward = Ints(v); break;
                case "--mode": mode = v; break;
                case "--loom": loom = v.Split(','); break;
                case "--rival": rivals = v.Split(','); break;
                case "--seconds": seconds = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--count": count = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--trees": trees = v; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        Console.WriteLine($"{Environment.MachineName}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        foreach (int h in hidden)
            foreach (int b in perForward)
            {
                var ratios = new List<double>();
                for (int r = 0; r < rounds; r++)
                {
                    double bestRival = 0, bestLoom = 0;
                    foreach (var x in rivals)
                    {
                        var line = RunRival(rival, trees, h, b, x, mode, seconds, count);
                        Console.WriteLine("dynet " + line);
                        bestRival = Math.Max(bestRival, TreesPerSecond(line));
                    }
                    foreach (var x in loom)
                    {
                        var res = TreeLstmBench.Run(new TreeLstmBenchOptions { Trees = trees, Hidden = h, PerForward = b, Batching = x, Mode = mode, Seconds = seconds, Count = count });
                        Console.WriteLine("loom  " + res.ToString().Replace(Environment.NewLine, Environment.NewLine + "      "));
                        bestLoom = Math.Max(bestLoom, res.TreesPerSecond);
                    }
                    Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "ratio hidden {0} per-forward {1} mode {2}: loom/dynet = {3:F2}", h, b, mode, bestLoom / bestRival));
                    ratios.Add(bestLoom / bestRival);
                }
                // The machine is shared: single pairs swing widely, the median of adjacent pairs much less.
                ratios.Sort();
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "median ratio hidden {0} per-forward {1} mode {2}: {3:F2} over {4} pairs (min {5:F2}, max {6:F2})",
                    h, b, mode, ratios[ratios.Count / 2], ratios.Count, ratios[0], ratios[^1]));
            }
        return 0;
    }

    private static string RunRival(string script, string trees, int h, int b, string batching, string mode, double seconds, int count)
    {
        var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, "--trees", trees, "--hidden", $"{h}", "--per-forward", $"{b}", "--batching", batching, "--mode", mode,
                     "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--count", $"{count}" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"the rival failed ({p.ExitCode}): {err.Result}");
        return output;
    }

    private static double TreesPerSecond(string line)
    {
        var m = Regex.Match(line, @": ([0-9.]+) trees/s");
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static int[] Ints(string v) => v.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
}
