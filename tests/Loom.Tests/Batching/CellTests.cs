using Loom.Dynamic;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Data;
using Loom.Dynamic.Models;

namespace Loom.Tests.BatchingTests;

/// <summary>
/// Cells as single graph nodes (ED-Batch's blocks): the same values as the per-primitive graph run unbatched, and the
/// learned FSM's kernel calls against ED-Batch's type-wise lower bound on SST trees, lattices and random DAGs.
/// </summary>
public class CellTests
{
    /// <summary>Unbatched per-primitive run (the reference) against the cell formulation under <paramref name="policy"/>.</summary>
    private static ForwardStats Compare(Func<DynamicGraph, List<Expr>, bool, Expr> build, BatchingPolicy policy)
    {
        var g0 = new DynamicGraph();
        var s0 = new List<Expr>();
        var l0 = build(g0, s0, false);
        g0.Forward(BatchingPolicy.None);
        var g = new DynamicGraph();
        var s = new List<Expr>();
        var l = build(g, s, true);
        g.Forward(policy, lowerBound: true, fsm: policy == BatchingPolicy.Fsm ? FsmPolicy.Learn(g) : null);
        float expected = g0.Value(l0)[0];
        Assert.Equal(expected, g.Value(l)[0], Math.Abs(expected) * 1e-5);
        Assert.Equal(s0.Count, s.Count);
        for (int i = 0; i < s.Count; i++) SmallTrees.Close(g0.Value(s0[i]), g.Value(s[i]));
        return g.LastStats!;
    }

    [Theory]
    [InlineData(BatchingPolicy.None)]
    [InlineData(BatchingPolicy.Depth)]
    [InlineData(BatchingPolicy.Agenda)]
    [InlineData(BatchingPolicy.Fsm)]
    public void CellGraphsGiveTheUnbatchedValues(BatchingPolicy policy)
    {
        var (trees, vocab) = SmallTrees.Load();
        var tm = new TreeLstm(vocab.Count, 16, seed: 3);
        var stats = Compare((g, st, cells) => tm.BuildForward(g, trees, everyNode: true, st, cells), policy);
        if (policy == BatchingPolicy.Fsm) Assert.Equal(stats.LowerBound, stats.KernelCalls);
        var lats = LatticeReader.Parse("2\n5\n0 1 2 3 4\n0 \n1 0 5\n2 1 6 0 300\n2 2 7 1 301\n3 3 8 2 9 1 10\n\n4\n0 7 8 9\n0 \n1 0 5\n2 1 6 0 300\n2 2 7 1 301\n\n", "t.txt");
        var lm = new LatticeGru(16, 10, seed: 5);
        Compare((g, st, cells) => lm.BuildForward(g, lats, st, cells), policy);
        var dags = RandomDag.Generate(3, nodes: 30, seed: 4);
        var dm = new RandomDag(16, seed: 6);
        Compare((g, st, cells) => dm.BuildForward(g, dags, st, cells), policy);
    }

    [Fact]
    public void ApplyChecksArgumentsAgainstTheCell()
    {
        var m = new TreeLstm(3, 8);
        var g = new DynamicGraph();
        var x = g.Lookup(m.Embedding, 1);
        var e = Assert.Throws<ShapeException>(() => g.Apply(m.NodeCell, x, x));
        Assert.Contains("treelstm.node", e.Message);
        var wide = Expr.Concat(x, x);
        e = Assert.Throws<ShapeException>(() => g.Apply(m.LeafCell, wide));
        Assert.Contains("argument 1 must have 8 values", e.Message);
        Assert.Throws<GraphException>(() => new DynamicGraph().Apply(m.LeafCell, x));
    }

    /// <summary>The first forward of the rival's order: 64 trees per forward, SplitMix64 shuffle with seed 1.</summary>
    private static List<SstTree> FirstForward(int count)
    {
        var trees = SstReader.ReadFile(SharedData.Require("data", "sst", "train.txt"), 1024);
        var order = InputOrder.Shuffle(trees.Count, 1);
        return Enumerable.Range(0, count).Select(i => trees[order[i]]).ToList();
    }

    private static (int Fsm, int Agenda, int Bound) Calls(Func<DynamicGraph, Expr> build)
    {
        var g = new DynamicGraph();
        build(g);
        var fsm = FsmPolicy.Learn(g, seed: 1);
        g.Forward(BatchingPolicy.Fsm, lowerBound: true, fsm: fsm);
        int calls = g.LastStats!.KernelCalls, bound = g.LastStats.LowerBound;
        Assert.Equal(fsm.GreedyCalls, calls);
        g.Forward(BatchingPolicy.Agenda);
        return (calls, g.LastStats!.KernelCalls, bound);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LearnedFsmReachesTheBoundOnSstTrees(bool everyNode)
    {
        var trees = FirstForward(64);
        var m = new TreeLstm(6000, 8);
        var (fsm, agenda, bound) = Calls(g => m.BuildForward(g, trees, everyNode, cells: true));
        Assert.True(fsm <= bound * 1.05, $"cells: {fsm} calls, lower bound {bound}");
        Assert.True(fsm < agenda, $"cells: fsm {fsm}, agenda {agenda}");
        if (everyNode) return;
        // Per primitive (a dozen signatures per cell, elementwise types shared by both cells): 229 against 211, not within 5%.
        (fsm, agenda, bound) = Calls(g => m.BuildForward(g, trees, everyNode));
        Assert.True(fsm <= bound * 1.10 && fsm < agenda, $"primitives: {fsm} calls (agenda {agenda}), lower bound {bound}");
    }

    [Fact]
    public void LearnedFsmOnLatticesAndDags()
    {
        // Measured ceilings, not the 5% goal, which no schedule reaches here (docs/batching.md, "Exact optima against
        // the bound": the optimum is ≥ 223 on these lattices and ≥ 78 on these DAGs): 32 train lattices 235 calls
        // against a bound of 212 (agenda 384); 8 DAGs of 200 nodes 85 against 69 (agenda 90).
        var lats = LatticeReader.ReadFile(SharedData.Require("data", "lattice", "train.txt"), 32);
        var lm = new LatticeGru(8, lats.Max(l => l.Tags.Max()) + 1);
        var (fsm, agenda, bound) = Calls(g => lm.BuildForward(g, lats, cells: true));
        Assert.True(fsm <= bound * 1.12 && fsm < agenda * 0.65, $"lattices: {fsm} calls (agenda {agenda}), lower bound {bound}");
        var dags = RandomDag.Generate(8, seed: 1);
        var dm = new RandomDag(8);
        (fsm, agenda, bound) = Calls(g => dm.BuildForward(g, dags, cells: true));
        Assert.True(fsm <= bound * 1.25 && fsm < agenda, $"DAGs: {fsm} calls (agenda {agenda}), lower bound {bound}");
    }
}
