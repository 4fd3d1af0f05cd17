using Loom.Dynamic;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Compiled;
using Loom.Dynamic.Models;

namespace Loom.Tests.BatchingTests;

/// <summary>
/// Every batching policy and the compiled path give the unbatched run's values (rtol 1e-5), and the
/// unbatched run gives the double-precision oracle's.
/// </summary>
public class PolicyTests
{
    private static (float Loss, float[][] Roots, ForwardStats Stats) Run(TreeLstm m, IReadOnlyList<Loom.Dynamic.Data.SstTree> trees, BatchingPolicy policy, bool everyNode, FsmPolicy? fsm = null)
    {
        var g = new DynamicGraph();
        var roots = new List<Expr>();
        var loss = m.BuildForward(g, trees, everyNode, roots);
        g.Forward(policy, lowerBound: true, fsm: fsm);
        return (g.Value(loss)[0], roots.Select(r => g.Value(r).ToArray()).ToArray(), g.LastStats!);
    }

    [Theory]
    [InlineData(16, false)]
    [InlineData(16, true)]
    [InlineData(40, true)]
    public void UnbatchedRunMatchesTheOracle(int hidden, bool everyNode)
    {
        var (trees, vocab) = SmallTrees.Load();
        var m = new TreeLstm(vocab.Count, hidden, seed: 7);
        var (loss, roots, _) = Run(m, trees, BatchingPolicy.None, everyNode);
        double expected = 0;
        for (int b = 0; b < trees.Count; b++)
        {
            var t = trees[b];
            var (h, _) = TreeLstmOracle.Node(m, t, t.Root);
            SmallTrees.Close(h.Select(v => (float)v).ToArray(), roots[b]);
            for (int n = 0; n < t.Count; n++)
                if (everyNode || n == t.Root) expected += TreeLstmOracle.Loss(m, TreeLstmOracle.Node(m, t, n).H, t.Labels[n]);
        }
        Assert.Equal(expected, loss, expected * 1e-5);
    }

    [Theory]
    [InlineData(BatchingPolicy.Depth)]
    [InlineData(BatchingPolicy.Agenda)]
    [InlineData(BatchingPolicy.Fsm)]
    public void EveryPolicyGivesTheUnbatchedValues(BatchingPolicy policy)
    {
        var (trees, vocab) = SmallTrees.Load();
        var m = new TreeLstm(vocab.Count, 24, seed: 3);
        FsmPolicy? fsm = null;
        if (policy == BatchingPolicy.Fsm)
        {
            var sample = new DynamicGraph();
            m.BuildForward(sample, trees, everyNode: true);
            fsm = FsmPolicy.Learn(sample);
        }
        var reference = Run(m, trees, BatchingPolicy.None, everyNode: true);
        var batched = Run(m, trees, policy, everyNode: true, fsm);
        Assert.Equal(reference.Loss, batched.Loss, reference.Loss * 1e-5);
        for (int b = 0; b < trees.Count; b++) SmallTrees.Close(reference.Roots[b], batched.Roots[b]);
        Assert.Equal(reference.Stats.Nodes, reference.Stats.KernelCalls);
        Assert.True(batched.Stats.KernelCalls < reference.Stats.KernelCalls / 4, $"{policy}: {batched.Stats.KernelCalls} calls");
        Assert.True(batched.Stats.KernelCalls >= batched.Stats.LowerBound);
    }

    [Theory]
    [InlineData(16, false, true)]
    [InlineData(16, true, true)]
    [InlineData(33, true, false)]
    [InlineData(64, false, false)]
    public void CompiledPathGivesTheUnbatchedValues(int hidden, bool everyNode, bool dedup)
    {
        var (trees, vocab) = SmallTrees.Load();
        var m = new TreeLstm(vocab.Count, hidden, seed: 5);
        var reference = Run(m, trees, BatchingPolicy.None, everyNode);
        var s = new StaticTreeLstm(m) { DedupLeaves = dedup };
        for (int rep = 0; rep < 2; rep++) // the second forward reuses every buffer
        {
            float loss = s.Forward(trees, everyNode);
            Assert.Equal(reference.Loss, loss, reference.Loss * 1e-5);
            for (int b = 0; b < trees.Count; b++) SmallTrees.Close(reference.Roots[b], s.RootH(b));
        }
        // Leaves, then one batch per internal level: the tallest tree (height 4) bounds it.
        Assert.Equal(4, s.CellBatches);
        Assert.Equal(s.CellLowerBound, s.CellBatches);
    }

    [Fact]
    public void FsmPolicyComesWithinFivePercentOfTheLowerBound()
    {
        var (trees, vocab) = SmallTrees.Load();
        var m = new TreeLstm(vocab.Count, 8);
        var g = new DynamicGraph();
        m.BuildForward(g, trees, everyNode: true);
        var fsm = FsmPolicy.Learn(g);
        Assert.True(fsm.GreedyCalls <= fsm.LowerBound * 1.05, $"{fsm.GreedyCalls} calls, lower bound {fsm.LowerBound}, {fsm.Episodes} episodes");
    }

    [Fact]
    public void ShapesAreCheckedWhenExpressionsAreBuilt()
    {
        var m = new TreeLstm(3, 8);
        var g = new DynamicGraph();
        var x = g.Lookup(m.Embedding, 1);
        var e = Assert.Throws<ShapeException>(() => Expr.Affine(m.Bi, (m.Ui, x)));
        Assert.Contains("U_i", e.Message);
        Assert.Throws<ShapeException>(() => g.Lookup(m.Embedding, 3));
        Assert.Throws<ShapeException>(() => g.PickNegLogSoftmax(m.Wout, x, 5));
        var other = new DynamicGraph();
        Assert.Throws<GraphException>(() => other.PickNegLogSoftmax(m.Wout, x, 0));
    }

    [Theory]
    [InlineData(48, true)]   // 48 hidden units cannot be cut into 32-column halves: levels are split by rows
    [InlineData(64, true)]   // split by hidden units: each thread its half of the weights' columns and gates
    [InlineData(64, false)]
    [InlineData(96, false)]  // fused kernels, but 96 units cannot be cut into two whole 32-unit halves: split by rows
    public void TwoThreadsGiveTheOneThreadValues(int hidden, bool everyNode)
    {
        // Enough copies of the small trees that levels are wide enough to be split.
        var (trees, vocab) = SmallTrees.Load();
        var many = Enumerable.Range(0, 40).SelectMany(_ => trees).ToList();
        var m = new TreeLstm(vocab.Count, hidden, seed: 9);
        var reference = Run(m, many, BatchingPolicy.None, everyNode);
        var one = new StaticTreeLstm(m);
        float expected = one.Forward(many, everyNode);
        Assert.Equal(reference.Loss, expected, Math.Abs(reference.Loss) * 1e-5);
        using var pool = new Loom.Runtime.Threading.WorkerPool(2);
        var two = new StaticTreeLstm(m, pool);
        Assert.Equal(expected, two.Forward(many, everyNode), Math.Abs(expected) * 1e-5);
        for (int b = 0; b < many.Count; b++) SmallTrees.Close(one.RootH(b), two.RootH(b));
        // A training step (rows split, plain weight layout) and then a forward again (hidden split) on the same
        // engine and on a one-thread engine of a copy of the model that took the same step.
        var m2 = new TreeLstm(vocab.Count, hidden, seed: 9);
        var one2 = new StaticTreeLstm(m2);
        Assert.Equal(one2.TrainStep(many, 0.05f), two.TrainStep(many, 0.05f), Math.Abs(expected) * 1e-5);
        float after = one2.Forward(many, everyNode);
        Assert.NotEqual(expected, after);
        Assert.Equal(after, two.Forward(many, everyNode), Math.Abs(after) * 1e-5);
    }

    [Fact]
    public void CompleteTreesRunAsOneBatchPerLevel()
    {
        // ACRoBat's setting (tree6): complete binary trees, here of height 4 with words 0..9.
        var trees = Enumerable.Range(0, 5).Select(t => Loom.Dynamic.Data.SstTree.Complete(4, n => (n * 7 + t) % 10, n => (byte)((n + t) % 5))).ToList();
        var m = new TreeLstm(10, 16, seed: 4);
        var reference = Run(m, trees, BatchingPolicy.None, everyNode: true);
        var s = new StaticTreeLstm(m);
        Assert.Equal(reference.Loss, s.Forward(trees, everyNode: true), reference.Loss * 1e-5);
        for (int b = 0; b < trees.Count; b++) SmallTrees.Close(reference.Roots[b], s.RootH(b));
        Assert.Equal(4, s.CellBatches);
        // Per-node batching: the learned FSM reaches the type-wise bound on complete trees, and gives the same values.
        var g = new DynamicGraph();
        m.BuildForward(g, trees, everyNode: true);
        var fsm = FsmPolicy.Learn(g);
        var learned = Run(m, trees, BatchingPolicy.Fsm, everyNode: true, fsm);
        Assert.Equal(learned.Stats.LowerBound, learned.Stats.KernelCalls);
        Assert.Equal(reference.Loss, learned.Loss, reference.Loss * 1e-5);
    }
}
