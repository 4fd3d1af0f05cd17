using Loom.Dynamic;
using Loom.Dynamic.Batching;

namespace Loom.Tests.BatchingTests;

/// <summary>Builds one forward twice — unbatched and under a policy — and checks the loss and every state agree.</summary>
internal static class PolicyParity
{
    /// <summary><paramref name="build"/> adds the model to a graph, appends the states to compare and returns the loss.</summary>
    public static ForwardStats Check(Func<DynamicGraph, List<Expr>, Expr> build, BatchingPolicy policy)
    {
        (float, float[][], ForwardStats) Run(BatchingPolicy p)
        {
            var g = new DynamicGraph();
            var states = new List<Expr>();
            var loss = build(g, states);
            FsmPolicy? fsm = p == BatchingPolicy.Fsm ? FsmPolicy.Learn(g) : null;
            g.Forward(p, lowerBound: true, fsm: fsm);
            return (g.Value(loss)[0], states.Select(s => g.Value(s).ToArray()).ToArray(), g.LastStats!);
        }
        var (refLoss, refStates, _) = Run(BatchingPolicy.None);
        var (loss, states, stats) = Run(policy);
        Assert.Equal(refLoss, loss, refLoss * 1e-5);
        for (int i = 0; i < refStates.Length; i++) SmallTrees.Close(refStates[i], states[i]);
        Assert.True(stats.KernelCalls >= stats.LowerBound);
        return stats;
    }
}
