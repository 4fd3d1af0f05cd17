using System.Diagnostics;
using Loom.Dynamic.Compiled;
using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Bench;

/// <summary>
/// Two threads against one on a busy machine: the same 16 forwards (all 1,024 trees) run alternately by a one-thread
/// and a two-thread engine, round after round; each forward's fastest wall time over the rounds is kept, so a
/// forward that ran once without another process taking a core counts, and the sums are compared.
/// Usage: batch-scaling [H] [seconds]
/// </summary>
internal static class BatchScaling
{
    public static int Run(string[] args)
    {
        int h = args.Length > 0 ? int.Parse(args[0]) : 512, b = 64;
        double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20;
        var shared = SharedFolder.Root;
        var trees = SstReader.ReadFile(Path.Combine(shared, "data", "sst", "train.txt"), 1024);
        var order = InputOrder.Shuffle(trees.Count, 1);
        var model = new TreeLstm(Vocabulary.Build(trees).Count, h, 1);
        using var pool = new Loom.Runtime.Threading.WorkerPool(2);
        // One thread; two threads with one hidden-unit part each (the default); two threads with up to four parts each.
        var engines = new[] { new StaticTreeLstm(model), new StaticTreeLstm(model, pool), new StaticTreeLstm(model, pool, partsPerThread: 4) };
        int kinds = engines.Length;
        int forwards = trees.Count / b;
        var best = new double[kinds, forwards];
        for (int e = 0; e < kinds; e++) for (int f = 0; f < forwards; f++) best[e, f] = double.MaxValue;
        var batch = new List<SstTree>();
        var clock = Stopwatch.StartNew();
        int rounds = 0;
        var cpu = new double[kinds];
        using var self = Process.GetCurrentProcess();
        while (clock.Elapsed.TotalSeconds < seconds || rounds < 2)
        {
            for (int e = 0; e < kinds; e++)
            {
                self.Refresh();
                double c0 = self.TotalProcessorTime.TotalMilliseconds;
                for (int f = 0; f < forwards; f++)
                {
                    InputOrder.Forward(trees, order, f, b, batch);
                    long t0 = Stopwatch.GetTimestamp();
                    engines[e].Forward(batch, false);
                    best[e, f] = Math.Min(best[e, f], Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
                self.Refresh();
                cpu[e] += self.TotalProcessorTime.TotalMilliseconds - c0;
            }
            rounds++;
        }
        double one = 0, two = 0, twoWhole = 0;
        for (int f = 0; f < forwards; f++) { one += best[0, f]; two += best[1, f]; twoWhole += best[2, f]; }
        Console.WriteLine($"hidden {h}, {rounds} rounds of {forwards} forwards: fastest wall times sum to {one:F1} ms on one thread, {two:F1} ms on two: " +
                          $"{one / two:F2}× ({b * forwards / one * 1e3:F0} and {b * forwards / two * 1e3:F0} trees/s); load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"  up to four parts per thread instead of one: {twoWhole:F1} ms, {one / twoWhole:F2}×");
        Console.WriteLine($"  process CPU per forward: {cpu[0] / rounds / forwards:F1} ms on one thread, {cpu[1] / rounds / forwards:F1} ms on two, " +
                          $"{cpu[2] / rounds / forwards:F1} ms with four parts per thread (spinning while waiting included)");
        return 0;
    }
}
