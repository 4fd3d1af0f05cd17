using Loom.Dynamic;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Bench;

/// <summary>
/// `batch-optimum [lattice|dag|dag1|trees] [--states N] [--beam W] [--primitives] [--fsm-only] [--grow --inputs a,b] [--subset K]`: the FSM's and agenda's kernel calls on the
/// cell graphs of docs/batching.md against the type-wise bound and the exact optimum (or the best schedule found and a
/// proven lower bound when the search runs out of states). Counts only, independent of the load.
/// </summary>
public static class BatchOptimum
{
    public static int Run(string[] args)
    {
        string which = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "all";
        long states = 2_000_000;
        int beam = 20;
        int subset = 0;
        bool grow = args.Contains("--grow");
        int[]? start = null;
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--subset") subset = int.Parse(args[i + 1]);
            if (args[i] == "--inputs") start = args[i + 1].Split(',').Select(int.Parse).ToArray();
            if (args[i] == "--states") states = long.Parse(args[i + 1]);
            if (args[i] == "--beam") beam = int.Parse(args[i + 1]);
        }
        string shared = SharedFolder.Root;
        var graphs = new List<(string Name, Action<DynamicGraph> Build)>();
        if (which is "all" or "trees")
        {
            var trees = SstReader.ReadFile(Path.Combine(shared, "data", "sst", "train.txt"), 1024);
            var order = InputOrder.Shuffle(trees.Count, 1);
            var first = Enumerable.Range(0, 64).Select(i => trees[order[i]]).ToList();
            var m = new TreeLstm(6000, 8);
            graphs.Add(("64 SST trees, cells", g => m.BuildForward(g, first, false, cells: true)));
            if (args.Contains("--primitives")) graphs.Add(("64 SST trees, per primitive", g => m.BuildForward(g, first, false)));
        }
        if (which is "all" or "lattice")
        {
            var lats = LatticeReader.ReadFile(Path.Combine(shared, "data", "lattice", "train.txt"), 32);
            var lm = new LatticeGru(8, lats.Max(l => l.Tags.Max()) + 1);
            graphs.Add(("32 lattices, cells", g => lm.BuildForward(g, lats, cells: true)));
            if (args.Contains("--primitives")) graphs.Add(("32 lattices, per primitive", g => lm.BuildForward(g, lats)));
            for (int k = 0; k < 4; k++)
            {
                int n = k;
                graphs.Add(($"lattice {n}, cells", g => lm.BuildForward(g, [lats[n]], cells: true)));
            }
        }
        if (which is "all" or "dag" or "dag1")
        {
            var dags = RandomDag.Generate(8, seed: 1);
            var dm = new RandomDag(8);
            if (which != "dag1") graphs.Add(("8 DAGs of 200 nodes, cells", g => dm.BuildForward(g, dags, cells: true)));
            if (which != "dag1" && args.Contains("--primitives")) graphs.Add(("8 DAGs of 200 nodes, per primitive", g => dm.BuildForward(g, dags)));
            for (int k = 0; k < 8; k++)
            {
                int n = k;
                graphs.Add(($"DAG {n}, cells", g => dm.BuildForward(g, [dags[n]], cells: true)));
            }
        }
        Console.WriteLine("graph | agenda | fsm | type-wise bound | optimum (or best found, proven lower bound) | states | fsm/bound | opt/bound");
        foreach (var (name, build) in graphs)
        {
            var g = new DynamicGraph();
            build(g);
            g.Forward(BatchingPolicy.Agenda);
            int agenda = g.LastStats!.KernelCalls;
            var fsm = FsmPolicy.Learn(g, seed: 1);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            if (args.Contains("--fsm-only"))
            {
                Console.WriteLine($"{name}: agenda {agenda}, fsm {fsm.GreedyCalls} ({fsm.Episodes} episodes), bound {fsm.LowerBound}");
                continue;
            }
            if (grow)
            {
                // Solve ever larger prefixes of the inputs (the --inputs first, then the rest by size), each exactly if it can.
                var bp = BatchProblem.From(g);
                int peeledTypes = 0;
                while (ExactSchedule.Peel(bp) is (> 0, var rest0) pr) { peeledTypes += pr.Peeled; bp = pr.Remainder; }
                var comps = bp.Components(out var of);
                var order = (start ?? []).Concat(Enumerable.Range(0, comps.Count).Where(c => start is null || !start.Contains(c)).OrderByDescending(c => comps[c].Length)).ToList();
                for (int k = 1; k <= order.Count; k++)
                {
                    var set = order.Take(k).ToHashSet();
                    var rr = ExactSchedule.Solve(ExactSchedule.Restrict(bp, n => set.Contains(of[n])), states, beam, relax: false);
                    Console.WriteLine($"  first {k} inputs (+ {order[k - 1]}): {rr.UpperBound + peeledTypes}{(rr.Exact ? " optimal" : $" (≥ {rr.LowerBound + peeledTypes})")}, {rr.States} states");
                }
                continue;
            }
            if (subset > 0)
            {
                var (lower, _) = ExactSchedule.SubsetBound(BatchProblem.From(g), subset, states, Console.Out, start);
                Console.WriteLine($"{name}: subsets of up to {subset} inputs prove ≥ {lower}");
                continue;
            }
            var r = ExactSchedule.Solve(BatchProblem.From(g), states, beam);
            string opt = r.Exact ? $"{r.UpperBound}" : $"{r.UpperBound} (≥ {r.LowerBound})";
            Console.WriteLine($"{name} | {agenda} | {fsm.GreedyCalls} | {r.TypeWise} | {opt} | {r.States} ({sw.Elapsed.TotalSeconds:F1} s, lower bound by {r.LowerFrom}) | {(double)fsm.GreedyCalls / r.TypeWise:F3} | {(double)r.LowerBound / r.TypeWise:F3}–{(double)r.UpperBound / r.TypeWise:F3}");
        }
        return 0;
    }
}
