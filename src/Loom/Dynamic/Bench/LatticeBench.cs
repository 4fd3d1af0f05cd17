using System.Diagnostics;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Dynamic.Bench;

/// <summary>
/// ED-Batch's lattice GRU workload: B consecutive lattices of the file per forward (wrapping around), tags and ids
/// modulo 256, a loss at every node; graph building, batching and the forward timed together.
/// </summary>
public static class LatticeBench
{
    public static TreeLstmBenchResult Run(TreeLstmBenchOptions o, TextWriter? log = null)
    {
        if (o.Mode != "root" && o.Mode != "node") throw new UnsupportedException("the lattice GRU runs forward only (a loss at every node)");
        var policy = o.Batching switch
        {
            "none" => BatchingPolicy.None,
            "agenda" => BatchingPolicy.Agenda,
            "depth" => BatchingPolicy.Depth,
            "fsm" => BatchingPolicy.Fsm,
            _ => throw new UnsupportedException($"--batching {o.Batching} is not available for the lattice GRU; none, agenda, depth and fsm are"),
        };
        var lattices = LatticeReader.ReadFile(o.Trees, o.Count);
        int classes = lattices.Max(l => l.Tags.Max()) + 1;
        var model = new LatticeGru(o.Hidden, classes, 256, o.Seed);
        int nodes = lattices.Sum(l => l.NodeCount);
        log?.WriteLine($"{lattices.Count} lattices, {nodes} nodes, {classes} classes");
        var batch = new List<Lattice>();
        void Take(int k)
        {
            batch.Clear();
            for (int i = 0; i < o.PerForward; i++) batch.Add(lattices[(int)(((long)k * o.PerForward + i) % lattices.Count)]);
        }
        var g = new DynamicGraph();
        FsmPolicy? fsm = null;
        Take(0);
        if (policy == BatchingPolicy.Fsm)
        {
            model.BuildForward(g, batch);
            fsm = FsmPolicy.Learn(g);
            log?.WriteLine($"FSM learned in {fsm.Episodes} episodes: {fsm.GreedyCalls} calls, lower bound {fsm.LowerBound}");
        }
        float Forward(bool bound)
        {
            g.Clear();
            var loss = model.BuildForward(g, batch);
            g.Forward(policy, bound, fsm);
            return g.Value(loss)[0];
        }
        float first = Forward(true);
        var st = g.LastStats!;
        int k = 1;
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < Math.Min(1.0, o.Seconds / 5)) { Take(k++); Forward(false); }
        int forwards = 0;
        var sw = Stopwatch.StartNew();
        do { Take(k++); Forward(false); forwards++; } while (sw.Elapsed.TotalSeconds < o.Seconds);
        double secs = sw.Elapsed.TotalSeconds;
        return new TreeLstmBenchResult(o, o.PerForward * forwards / secs, secs * 1000 / forwards, nodes, st.KernelCalls, st.LowerBound, st.BytesCopied, first);
    }
}
