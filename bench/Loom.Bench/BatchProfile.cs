using System.Diagnostics;
using Loom.Dynamic;
using Loom.Dynamic.Compiled;
using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Bench;

/// <summary>
/// Where the compiled TreeLSTM's forward time goes: per forward, the leaf batch and the internal levels grouped
/// by row count (each with its GFLOP/s), and the rest (plan, leaf copies, losses), on thread CPU time when available.
/// Usage: batch-profile [H] [per-forward] [seconds]
/// </summary>
internal static class BatchProfile
{
    public static int Run(string[] args)
    {
        int h = args.Length > 0 ? int.Parse(args[0]) : 512, b = args.Length > 1 ? int.Parse(args[1]) : 64;
        double seconds = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var shared = Environment.GetEnvironmentVariable("LOOM_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath("../shared");
        var trees = SstReader.ReadFile(Path.Combine(shared, "data", "sst", "train.txt"), 1024);
        var order = InputOrder.Shuffle(trees.Count, 1);
        var model = new TreeLstm(Vocabulary.Build(trees).Count, h, 1);
        var st = new StaticTreeLstm(model);
        var batch = new List<SstTree>();
        int k = 0;
        for (; k < 8; k++) { InputOrder.Forward(trees, order, k, b, batch); st.Forward(batch, false); }
        var buckets = new SortedDictionary<int, (double Ms, double Flop, int N)>();
        double total = 0, traced = 0;
        int forwards = 0;
        var wall = Stopwatch.StartNew();
                while (wall.Elapsed.TotalSeconds < seconds)
        {
            InputOrder.Forward(trees, order, k++, b, batch);
            st.Trace = new BatchTrace(threadCpu: true);
            double c0 = ThreadCpuClock.NowMs();
            st.Forward(batch, false);
            total += ThreadCpuClock.NowMs() - c0;
            forwards++;
            foreach (var e in st.Trace.Events)
            {
                bool leaf = e.Name.StartsWith("leaves", StringComparison.Ordinal);
                int key = leaf ? -1 : e.Rows < 8 ? 0 : e.Rows < 16 ? 8 : e.Rows < 32 ? 16 : e.Rows < 64 ? 32 : e.Rows < 128 ? 64 : 128;
                double ms = (e.End - e.Start) / 1e6, flop = 2.0 * e.Rows * (leaf ? 3 : 8) * h * h;
                var v = buckets.GetValueOrDefault(key);
                buckets[key] = (v.Ms + ms, v.Flop + flop, v.N + 1);
                traced += ms;
            }
        }
        st.Trace = null;
        Console.WriteLine($"hidden {h}, {b} trees per forward, {forwards} forwards: {total / forwards:F2} ms CPU per forward, {b * forwards / (total / 1e3):F0} trees/s");
        foreach (var (key, v) in buckets)
            Console.WriteLine($"  {(key < 0 ? "leaves" : $"levels {key}+ rows"),-16} {v.Ms / forwards,7:F2} ms  {v.N / (double)forwards,5:F1} calls  {v.Flop / v.Ms / 1e6,6:F1} GFLOP/s");
        Console.WriteLine($"  {"rest",-16} {(total - traced) / forwards,7:F2} ms (plan, leaf copies and losses)");
        return 0;
    }
}
