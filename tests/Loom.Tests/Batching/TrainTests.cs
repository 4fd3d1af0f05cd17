using Loom.Dynamic;
using Loom.Dynamic.Compiled;
using Loom.Dynamic.Models;

namespace Loom.Tests.BatchingTests;

/// <summary>The compiled backward pass against central differences of the double-precision oracle's loss.</summary>
public class TrainTests
{
    private static double OracleLoss(TreeLstm m, IReadOnlyList<Loom.Dynamic.Data.SstTree> trees)
    {
        double sum = 0;
        foreach (var t in trees)
            for (int n = 0; n < t.Count; n++) sum += TreeLstmOracle.Loss(m, TreeLstmOracle.Node(m, t, n).H, t.Labels[n]);
        return sum;
    }

    [Theory]
    [InlineData(true, 8)]
    [InlineData(false, 8)]
    [InlineData(true, 20)] // 16-lane body and a scalar tail
    public void GradientsMatchFiniteDifferences(bool dedup, int hidden)
    {
        var (trees, vocab) = SmallTrees.Load();
        var m = new TreeLstm(vocab.Count, hidden, seed: 11);
        var s = new StaticTreeLstm(m) { DedupLeaves = dedup };
        s.Forward(trees, everyNode: true, keep: true);
        s.Backward();
        int the = vocab.GetOrAdd("the");
        var probes = new (Parameter P, int Index)[]
        {
            (m.Wi, 3), (m.Wo, 17), (m.Wu, 60), (m.Ui, 5), (m.Ui, hidden * 2 * hidden - 1), (m.Uo, 70), (m.Uu, 9), (m.Uf1, 12), (m.Uf2, 33),
            (m.Bi, 2), (m.Bo, 4), (m.Bu, 7), (m.Bf, 1), (m.Wout, 21), (m.Embedding, the * hidden + 3),
        };
        foreach (var (p, i) in probes)
        {
            float v = p.Value[i];
            p.Value[i] = v + 1e-2f; double up = OracleLoss(m, trees); float hi = p.Value[i];
            p.Value[i] = v - 1e-2f; double down = OracleLoss(m, trees); float lo = p.Value[i];
            p.Value[i] = v;
            double numeric = (up - down) / (hi - lo);
            double analytic = p.Grad[i];
            Assert.True(Math.Abs(numeric - analytic) <= 2e-3 * Math.Max(1, Math.Abs(numeric)), $"{p}[{i}]: numeric {numeric}, analytic {analytic}");
        }
    }

    [Fact]
    public void SgdStepsLowerTheLoss()
    {
        var (trees, vocab) = SmallTrees.Load();
        var m = new TreeLstm(vocab.Count, 16, seed: 2);
        var s = new StaticTreeLstm(m);
        float first = s.TrainStep(trees, 0.05f);
        float last = first;
        for (int k = 0; k < 20; k++) last = s.TrainStep(trees, 0.05f);
        Assert.True(last < first * 0.9, $"loss {first} -> {last}");
        // The packed weights follow the updates: the static forward still equals the oracle.
        Assert.Equal(OracleLoss(m, trees), s.Forward(trees, everyNode: true), 1e-3);
    }
}
