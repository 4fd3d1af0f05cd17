using System.Diagnostics;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Dynamic.Bench;

/// <summary>
/// ED-Batch's lattice GRU and random-DAG workloads: B consecutive inputs per forward (wrapping around); lattice
/// tags and ids modulo 256, a loss at every lattice node; graph building, batching and the forward timed together.
/// </summary>
public static class LatticeBench
{
    public static TreeLstmBenchResult Run(TreeLstmBenchOptions o, TextWriter? log = null)
    {
        if (o.Mode != "root" && o.Mode != "node") throw new UnsupportedException($"--model {o.Model} runs forward only");
        var policy = o.Batching switch
        {
            "none" => BatchingPolicy.None,
            "agenda" => BatchingPolicy.Agenda,
            "depth" => BatchingPolicy.Depth,
            "fsm" => BatchingPolicy.Fsm,
            _ => throw new UnsupportedException($"--batching {o.Batching} is not available for --model {o.Model}; none, agenda, depth and fsm are"),
        };
        // Either workload is a list of inputs and a graph builder; B consecutive inputs per forward, wrapping around.
        Func<int, Expr> build;
        int count, nodes;
        var g = new DynamicGraph();
        if (o.Model == "bilstm")
        {
            // Chains: the words of the first N SST sentences (leaves left to right), tagged with the leaves' labels.
            var trees = SstReader.ReadFile(o.Trees, o.Count);
            int vocab = Vocabulary.Build(trees).Count;
            var sentences = trees.Select(t => (Words: Enumerable.Range(0, t.Count).Where(t.IsLeaf).Select(n => t.WordIds[n]).ToArray(),
                                               Tags: Enumerable.Range(0, t.Count).Where(t.IsLeaf).Select(n => (int)t.Labels[n]).ToArray())).ToList();
            var model = new BiLstmTagger(vocab, o.Hidden, seed: o.Seed);
            count = sentences.Count;
            nodes = sentences.Sum(s => s.Words.Length);
            var batch = new List<(int[], int[])>();
            build = k =>
            {
                batch.Clear();
                for (int i = 0; i < o.PerForward; i++) batch.Add(sentences[(int)(((long)k * o.PerForward + i) % count)]);
                return model.BuildForward(g, batch);
            };
            log?.WriteLine($"{count} sentences, {nodes} words");
        }
        else if (o.Model == "dag")
        {
            var dags = RandomDag.Generate(o.Count, seed: o.Seed);
            var model = new RandomDag(o.Hidden, o.Seed);
            count = dags.Count;
            nodes = dags.Sum(d => d.Inputs.Length);
            var batch = new List<RandomDag.Dag>();
            build = k =>
            {
                batch.Clear();
                for (int i = 0; i < o.PerForward; i++) batch.Add(dags[(int)(((long)k * o.PerForward + i) % count)]);
                return model.BuildForward(g, batch, cells: o.Cells);
            };
            log?.WriteLine($"{count} random DAGs of 200 nodes, in-degree 4");
        }
        else
        {
            var lattices = LatticeReader.ReadFile(o.Trees, o.Count);
            int classes = lattices.Max(l => l.Tags.Max()) + 1;
            var model = new LatticeGru(o.Hidden, classes, 256, o.Seed);
            count = lattices.Count;
            nodes = lattices.Sum(l => l.NodeCount);
            var batch = new List<Lattice>();
            build = k =>
            {
                batch.Clear();
                for (int i = 0; i < o.PerForward; i++) batch.Add(lattices[(int)(((long)k * o.PerForward + i) % count)]);
                return model.BuildForward(g, batch, cells: o.Cells);
            };
            log?.WriteLine($"{count} lattices, {nodes} nodes, {classes} classes");
        }
        FsmPolicy? fsm = null;
        if (policy == BatchingPolicy.Fsm)
        {
            build(0);
            fsm = FsmPolicy.Learn(g);
            log?.WriteLine($"FSM learned in {fsm.Episodes} episodes: {fsm.GreedyCalls} calls, lower bound {fsm.LowerBound}");
        }
        float Forward(int k, bool bound)
        {
            g.Clear();
            var loss = build(k);
            g.Forward(policy, bound, fsm);
            return g.Value(loss)[0];
        }
        if (o.Trace is not null) g.Trace = new BatchTrace();
        float first = Forward(0, true);
        if (o.Trace is not null) { g.Trace!.WriteChromeJson(o.Trace); g.Trace = null; }
        var st = g.LastStats!;
        int k = 1;
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < Math.Min(1.0, o.Seconds / 5)) Forward(k++, false);
        int forwards = 0;
        var sw = Stopwatch.StartNew();
        do { Forward(k++, false); forwards++; } while (sw.Elapsed.TotalSeconds < o.Seconds);
        double secs = sw.Elapsed.TotalSeconds;
        return new TreeLstmBenchResult(o, o.PerForward * forwards / secs, secs * 1000 / forwards, nodes, st.KernelCalls, st.LowerBound, st.BytesCopied, first);
    }
}
