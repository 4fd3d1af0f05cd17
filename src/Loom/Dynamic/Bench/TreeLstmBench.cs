using System.Diagnostics;
using System.Globalization;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Compiled;
using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Dynamic.Bench;

/// <summary>The DyNet rival's options (treelstm-dynet.sh), plus Loom's own.</summary>
public sealed record TreeLstmBenchOptions
{
    public required string Trees { get; init; }
    public int Hidden { get; init; } = 128;
    public int PerForward { get; init; } = 64;
    /// <summary>none, agenda, depth, fsm or static.</summary>
    public string Batching { get; init; } = "static";
    /// <summary>root, node or train.</summary>
    public string Mode { get; init; } = "root";
    public double Seconds { get; init; } = 5;
    public int Count { get; init; } = 1024;
    public ulong Seed { get; init; } = 1;
    public bool DedupLeaves { get; init; } = true;
    /// <summary>Per-node policies: one graph node per cell call (ED-Batch's blocks) instead of one per primitive.</summary>
    public bool Cells { get; init; }
    /// <summary>treelstm (SST trees), tree6 (complete binary trees of height 6, random words) or latticegru.</summary>
    public string Model { get; init; } = "treelstm";
    /// <summary>Write the first forward's batches as Chrome trace JSON here.</summary>
    public string? Trace { get; init; }
    /// <summary>Threads for the static path (inference split by hidden units, training by rows).</summary>
    public int Threads { get; init; } = 1;
    /// <summary>Time by the thread's CPU time (one thread only): a shared machine's lost time slices do not count.</summary>
    public bool Cpu { get; init; }
}

public sealed record TreeLstmBenchResult(TreeLstmBenchOptions Options, double TreesPerSecond, double MsPerForward, int Nodes,
    int KernelCalls, int LowerBound, long BytesCopied, float FirstLoss)
{
    /// <summary>Trees per second of wall-clock time (equal to <see cref="TreesPerSecond"/> unless timed by CPU time).</summary>
    public double WallTreesPerSecond { get; init; }

    /// <summary>The rival's line, then Loom's batching figures.</summary>
    public override string ToString()
    {
        var o = Options;
        var c = CultureInfo.InvariantCulture;
        string unit = o.Model switch { "latticegru" => "lattices", "dag" => "dags", "bilstm" => "sentences", _ => "trees" };
        return string.Format(c, "{7} hidden {0} per-forward {1} batching {2} mode {3}: {4:F1} {8}/s ({5:F3} ms per forward), nodes {6}",
                   o.Hidden, o.PerForward, o.Batching, o.Mode, TreesPerSecond, MsPerForward, Nodes, o.Model, unit)
             + Environment.NewLine
             + string.Format(c, "kernel calls {0} per forward (lower bound {1}), bytes copied {2} per forward{3}{4}", KernelCalls, LowerBound, BytesCopied,
                 o.Threads > 1 ? $", {o.Threads} threads" : "",
                 o.Cpu ? string.Format(c, ", timed by thread CPU time ({0:F1} trees/s by the wall clock)", WallTreesPerSecond) : "");
    }
}

/// <summary>
/// Loom doing the DyNet rival's exact work: the first N trees, their vocabulary, the rival's shuffled order,
/// B trees per forward cyclically; graph building (or planning), batching and the forward inside the timed part.
/// </summary>
public static class TreeLstmBench
{
    public static TreeLstmBenchResult Run(TreeLstmBenchOptions o, TextWriter? log = null)
    {
        if (o.Hidden <= 0 || o.PerForward <= 0 || o.Count <= 0 || o.Seconds <= 0)
            throw new InputException("--hidden, --per-forward, --count and --seconds must be positive");
        bool everyNode = o.Mode switch
        {
            "root" => false,
            "node" => true,
            "train" => true,
            _ => throw new InputException($"--mode must be root, node or train, not '{o.Mode}'"),
        };
        if (o.Model is "latticegru" or "dag" or "bilstm") return LatticeBench.Run(o, log);
        List<SstTree> trees;
        int vocabCount;
        if (o.Model == "tree6")
        {
            // ACRoBat's setting: complete binary trees of height 6, words and labels drawn from SplitMix64.
            var rng = new SplitMix64(o.Seed);
            vocabCount = 5200;
            trees = Enumerable.Range(0, o.Count).Select(_ => SstTree.Complete(6, _ => (int)(rng.Next() % (ulong)vocabCount), _ => (byte)(rng.Next() % 5))).ToList();
        }
        else if (o.Model == "treelstm")
        {
            trees = SstReader.ReadFile(o.Trees, o.Count);
            vocabCount = Vocabulary.Build(trees).Count;
        }
        else throw new UnsupportedException($"--model {o.Model} is not implemented; treelstm, tree6, latticegru, bilstm and dag are");
        var order = InputOrder.Shuffle(trees.Count, o.Seed);
        var model = new TreeLstm(vocabCount, o.Hidden, o.Seed);
        int nodes = trees.Sum(t => t.Count);
        log?.WriteLine($"{trees.Count} trees, vocabulary {vocabCount}, {nodes} labelled nodes");
        Func<List<SstTree>, float> forward;
        Func<(int Calls, int Bound, long Bytes)> stats;
        var batch = new List<SstTree>();
        if (o.Threads < 1) throw new InputException("--threads must be at least 1");
        if (o.Cpu && o.Threads > 1) throw new InputException("--cpu times one thread; with --threads above 1 use the wall clock");
        bool train = o.Mode == "train";
        if (train && o.Batching != "static") throw new UnsupportedException("train mode (backward and SGD) is implemented for --batching static only");
        if (o.Threads > 1 && o.Batching != "static") throw new UnsupportedException("--threads above 1 is implemented for --batching static only");
        using var pool = o.Threads > 1 ? new Loom.Runtime.Threading.WorkerPool(o.Threads) : null;
        if (o.Batching == "static")
        {
            var s = new StaticTreeLstm(model, pool) { DedupLeaves = o.DedupLeaves, Trace = o.Trace is null ? null : new BatchTrace() };
            forward = train ? b => s.TrainStep(b, 0.01f) : b => s.Forward(b, everyNode);
            // Batches of the coarsened cell (one per level) against their bound; each is two GEMMs and one fused pass.
            stats = () =>
            {
                log?.WriteLine($"static: {s.CellBatches} cell batches = {s.KernelCalls} GEMM and fused-pass launches per forward");
                if (o.Trace is not null) { s.Trace!.WriteChromeJson(o.Trace); s.Trace = null; }
                return (s.CellBatches, s.CellLowerBound, s.BytesCopied);
            };
        }
        else
        {
            var policy = o.Batching switch
            {
                "none" => BatchingPolicy.None,
                "agenda" => BatchingPolicy.Agenda,
                "depth" => BatchingPolicy.Depth,
                "fsm" => BatchingPolicy.Fsm,
                _ => throw new InputException($"--batching must be none, agenda, depth, fsm or static, not '{o.Batching}'"),
            };
            FsmPolicy? fsm = null;
            if (policy == BatchingPolicy.Fsm)
            {
                // Learned once per model on the first forward's graph, outside the timed part (ED-Batch caches it).
                InputOrder.Forward(trees, order, 0, o.PerForward, batch);
                var sample = new DynamicGraph();
                model.BuildForward(sample, batch, everyNode, cells: o.Cells);
                fsm = FsmPolicy.Learn(sample);
                log?.WriteLine($"FSM learned in {fsm.Episodes} episodes: {fsm.GreedyCalls} calls, lower bound {fsm.LowerBound}");
            }
            var g = new DynamicGraph();
            bool withBound = false;
            forward = b =>
            {
                g.Clear();
                var loss = model.BuildForward(g, b, everyNode, cells: o.Cells);
                g.Forward(policy, withBound, fsm);
                return g.Value(loss)[0];
            };
            stats = () =>
            {
                withBound = true;
                if (o.Trace is not null) g.Trace = new BatchTrace();
                InputOrder.Forward(trees, order, 0, o.PerForward, batch);
                forward(batch);
                withBound = false;
                if (o.Trace is not null) { g.Trace!.WriteChromeJson(o.Trace); g.Trace = null; }
                var st = g.LastStats!;
                return (st.KernelCalls, st.LowerBound, st.BytesCopied);
            };
        }

        InputOrder.Forward(trees, order, 0, o.PerForward, batch);
        float firstLoss = forward(batch);
        var (calls, bound, bytes) = stats();
        int k = 1;
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < Math.Min(1.0, o.Seconds / 5)) { InputOrder.Forward(trees, order, k++, o.PerForward, batch); forward(batch); }
        int forwards = 0;
        var sw = Stopwatch.StartNew();
        double cpu0 = o.Cpu ? Runtime.CpuClock.Now(1) : 0, secs;
        do
        {
            InputOrder.Forward(trees, order, k++, o.PerForward, batch);
            forward(batch);
            forwards++;
            secs = o.Cpu ? Runtime.CpuClock.Now(1) - cpu0 : sw.Elapsed.TotalSeconds;
        } while (secs < o.Seconds);
        double wall = sw.Elapsed.TotalSeconds;
        return new TreeLstmBenchResult(o, o.PerForward * forwards / secs, secs * 1000 / forwards, nodes, calls, bound, bytes, firstLoss)
            { WallTreesPerSecond = o.PerForward * forwards / wall };
    }
}
