using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Loom.Dynamic.Bench;

namespace Loom.Bench;

/// <summary>
/// TreeLSTM auto-batching: the DyNet rival (treelstm-dynet.sh) and Loom with the same arguments, configurations
/// interleaved (rival, Loom, rival, Loom …) so machine noise hits both alike; prints both lines and the ratio of
/// Loom's best policy to the rival's best of agenda and depth.
/// Usage: batch [--hidden 128,256,512] [--per-forward 64] [--mode root] [--loom static] [--rival agenda,depth]
///              [--seconds 1] [--count 1024] [--rounds 5] [--trees FILE] [--cpu true|false]
/// Loom is timed by its thread's CPU time unless --cpu false; the rival by its own wall clock, scaled by the CPU
/// share its process got (getrusage of children), so the headline ratio compares CPU time with CPU time. Each
/// pair also prints the plain wall-clock ratio, Loom's CPU time against the rival's wall clock, and the load average.
/// </summary>
internal static class BatchBench
{
    public static int Run(string[] args)
    {
        var shared = SharedFolder.Root;
        string trees = Path.Combine(shared, "data", "sst", "train.txt");
        string rival = Path.Combine(shared, "rivals", "dynet", "treelstm-dynet.sh");
        int[] hidden = [128, 256, 512], perForward = [64];
        string[] loom = ["static"], rivals = ["agenda", "depth"];
        string mode = "root";
        double seconds = 1;
        int count = 1024, rounds = 5;
        bool cpu = true, cells = false;
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
                case "--cpu": cpu = bool.Parse(v); break;
                case "--cells": cells = bool.Parse(v); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        Console.WriteLine($"{Environment.MachineName}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        foreach (int h in hidden)
            foreach (int b in perForward)
            {
                var ratios = new List<double>();
                var wallRatios = new List<double>();
                var mixedRatios = new List<double>();
                for (int r = 0; r < rounds; r++)
                {
                    double bestRival = 0, bestRivalCpu = 0, bestLoom = 0, bestLoomWall = 0;
                    foreach (var x in rivals)
                    {
                        var (line, share) = RunRival(rival, trees, h, b, x, mode, seconds, count);
                        double tps = TreesPerSecond(line);
                        // The rival times itself by the wall clock; scaled by its process's CPU share (CPU ÷ wall time of
                        // the whole run, start-up included) it estimates trees per second of its own CPU time.
                        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "dynet {0}  [ran {1:P0} of its wall time: ≈ {2:F1} trees per CPU second]", line, share, tps / share));
                        bestRival = Math.Max(bestRival, tps);
                        bestRivalCpu = Math.Max(bestRivalCpu, tps / share);
                    }
                    foreach (var x in loom)
                    {
                        var res = TreeLstmBench.Run(new TreeLstmBenchOptions { Trees = trees, Hidden = h, PerForward = b, Batching = x, Mode = mode, Seconds = seconds, Count = count, Cpu = cpu, Cells = cells });
                        Console.WriteLine("loom  " + res.ToString().Replace(Environment.NewLine, Environment.NewLine + "      "));
                        bestLoom = Math.Max(bestLoom, res.TreesPerSecond);
                        bestLoomWall = Math.Max(bestLoomWall, res.WallTreesPerSecond);
                    }
                    double both = cpu ? bestLoom / bestRivalCpu : bestLoom / bestRival;
                    Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                        "ratio hidden {0} per-forward {1} mode {2}: loom/dynet = {3:F2}{4}; wall clock {5:F2}; Loom CPU / DyNet wall {6:F2}; load average {7}",
                        h, b, mode, both, cpu ? " (both on CPU time)" : "", bestLoomWall / bestRival, bestLoom / bestRival, LoadAverage()));
                    ratios.Add(both);
                    wallRatios.Add(bestLoomWall / bestRival);
                    mixedRatios.Add(bestLoom / bestRival);
                }
                // The machine is shared: single pairs swing widely, the median of adjacent pairs much less.
                ratios.Sort(); wallRatios.Sort(); mixedRatios.Sort();
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "median ratio hidden {0} per-forward {1} mode {2}: {3:F2} over {4} pairs (min {5:F2}, max {6:F2}); wall clock {7:F2}; Loom CPU / DyNet wall {8:F2}",
                    h, b, mode, ratios[ratios.Count / 2], ratios.Count, ratios[0], ratios[^1], wallRatios[wallRatios.Count / 2], mixedRatios[mixedRatios.Count / 2]));
            }
        return 0;
    }

    /// <summary>The rival's output line and the share of its wall time it ran (its CPU time from getrusage of children).</summary>
    private static (string Line, double CpuShare) RunRival(string script, string trees, int h, int b, string batching, string mode, double seconds, int count)
    {
        double cpu0 = ChildrenCpuSeconds();
        var wall = Stopwatch.StartNew();
        var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, "--trees", trees, "--hidden", $"{h}", "--per-forward", $"{b}", "--batching", batching, "--mode", mode,
                     "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--count", $"{count}" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"the rival failed ({p.ExitCode}): {err.Result}");
        double share = (ChildrenCpuSeconds() - cpu0) / wall.Elapsed.TotalSeconds;
        return (output, share is > 0 and <= 1 ? share : 1);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSec, UserUsec, SysSec, SysUsec;
        public long F0, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13;
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRUsage(int who, out RUsage usage);

    /// <summary>CPU seconds of all waited-for child processes (RUSAGE_CHILDREN); 0 where unavailable.</summary>
    private static double ChildrenCpuSeconds()
    {
        if (!OperatingSystem.IsLinux() || GetRUsage(-1, out var u) != 0) return 0;
        return u.UserSec + u.SysSec + (u.UserUsec + u.SysUsec) * 1e-6;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static double TreesPerSecond(string line)
    {
        var m = Regex.Match(line, @": ([0-9.]+) trees/s");
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static int[] Ints(string v) => v.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
}
