using System.Diagnostics;
using Loom.Dynamic;
using Loom.Dynamic.Compiled;
using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Bench;

/// <summary>
/// Where the compiled TreeLSTM's forward time goes: per forward, the leaf batch and the internal levels grouped
/// by row count (each with its GFLOP/s), and the rest (plan, leaf copies, losses), on thread CPU time when available.
/// Usage: batch-profile [H] [per-forward] [seconds] [hidden parts, 2]
/// Then the two-thread forward's critical path, measured on one thread: the hidden-unit split run part after part
/// with each part's CPU time, so two threads' time ≈ that forward's CPU time − Σ over batches of the shorter part.
/// </summary>
internal static class BatchProfile
{
    public static int Run(string[] args)
    {
        int h = args.Length > 0 ? int.Parse(args[0]) : 512, b = args.Length > 1 ? int.Parse(args[1]) : 64;
        double seconds = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var shared = SharedFolder.Root;
        var trees = SstReader.ReadFile(Path.Combine(shared, "data", "sst", "train.txt"), 1024);
        var order = InputOrder.Shuffle(trees.Count, 1);
        var model = new TreeLstm(Vocabulary.Build(trees).Count, h, 1);
        var st = new StaticTreeLstm(model);
        var batch = new List<SstTree>();
        int k = 0;
        for (; k < 8; k++) { InputOrder.Forward(trees, order, k, b, batch); st.Forward(batch, false); }
        var buckets = new SortedDictionary<int, (double Ms, double Flop, int N)>();
        double total = 0, traced = 0, flops = 0;
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
                bool leaf = e.Name.StartsWith("leaves", StringComparison.Ordinal), losses = e.Name == "losses";
                int key = leaf ? -1 : losses ? int.MaxValue : e.Rows < 8 ? 0 : e.Rows < 16 ? 8 : e.Rows < 32 ? 16 : e.Rows < 64 ? 32 : e.Rows < 128 ? 64 : 128;
                double ms = (e.End - e.Start) / 1e6, flop = losses ? 0 : 2.0 * e.Rows * (leaf ? 3 : 8) * h * h;
                var v = buckets.GetValueOrDefault(key);
                buckets[key] = (v.Ms + ms, v.Flop + flop, v.N + 1);
                traced += ms;
                flops += flop;
            }
        }
        st.Trace = null;
        Console.WriteLine($"hidden {h}, {b} trees per forward, {forwards} forwards: {total / forwards:F2} ms CPU per forward, {b * forwards / (total / 1e3):F0} trees/s");
        foreach (var (key, v) in buckets)
            Console.WriteLine(key == int.MaxValue ? $"  {"losses",-16} {v.Ms / forwards,7:F2} ms"
                : $"  {(key < 0 ? "leaves" : $"levels {key}+ rows"),-16} {v.Ms / forwards,7:F2} ms  {v.N / (double)forwards,5:F1} calls  {v.Flop / v.Ms / 1e6,6:F1} GFLOP/s");
        Console.WriteLine($"  {"rest",-16} {(total - traced) / forwards,7:F2} ms (plan, leaf copies and losses when not listed)");
        Console.WriteLine($"  whole forward {flops / total / 1e6:F1} GFLOP/s (leaf and level GEMM work over all CPU time)");

        // Alternate one-thread forwards and the two-part split on one thread, so load changes hit both alike.
        int nParts = args.Length > 3 ? int.Parse(args[3]) : 2;
        var split = new StaticTreeLstm(model, hiddenParts: nParts) { PartCpuSeconds = [] };
        for (int w = 0; w < 4; w++) { InputOrder.Forward(trees, order, k++, b, batch); split.Forward(batch, false); }
        split.PartCpuSeconds.Clear();
        double one = 0, two = 0, overlap = 0;
        int n = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            InputOrder.Forward(trees, order, k++, b, batch);
            double c0 = ThreadCpuClock.NowMs();
            st.Forward(batch, false);
            double c1 = ThreadCpuClock.NowMs();
            split.Forward(batch, false);
            one += c1 - c0;
            two += ThreadCpuClock.NowMs() - c1;
            n++;
        }
        double inParts = 0, maxParts = 0;
        // Two threads claiming the parts of a batch in turn: the longer thread's share is about half the batch, at
        // least its longest part.
        foreach (var parts in split.PartCpuSeconds)
        {
            double sum = parts.Sum() * 1e3, longer = Math.Max(sum / 2, parts.Max() * 1e3);
            overlap += sum - longer; inParts += sum; maxParts += longer;
        }
        double critical = (two - overlap) / n;
        Console.WriteLine($"{nParts} hidden parts on one thread: {two / n:F2} ms CPU per forward (one-thread layout {one / n:F2} ms), " +
                          $"critical path {critical:F2} ms: two threads ≈ {one / n / critical:F2}× one thread, before hand-off and memory contention");
        Console.WriteLine($"  serial (plan, losses) {(two - inParts) / n:F2} ms, parts {inParts / n:F2} ms in {split.PartCpuSeconds.Count / (double)n:F1} batches, the longer thread's share {maxParts / n:F2} ms");
        return 0;
    }
}

