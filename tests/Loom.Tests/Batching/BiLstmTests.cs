using Loom.Dynamic;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Models;

namespace Loom.Tests.BatchingTests;

/// <summary>The BiLSTM tagger over chains of different lengths: every policy equals the unbatched run; the FSM reaches the bound.</summary>
public class BiLstmTests
{
    [Theory]
    [InlineData(BatchingPolicy.Depth)]
    [InlineData(BatchingPolicy.Agenda)]
    [InlineData(BatchingPolicy.Fsm)]
    public void EveryPolicyGivesTheUnbatchedValues(BatchingPolicy policy)
    {
        (int[], int[])[] sentences = [([0, 1, 2, 3, 4], [2, 2, 3, 1, 0]), ([5], [4]), ([1, 6, 2], [1, 1, 2]), ([3, 3, 3, 3, 3, 3, 3], [0, 1, 2, 3, 4, 0, 1])];
        var m = new BiLstmTagger(7, 16);
        (float, float[][], ForwardStats) Run(BatchingPolicy p)
        {
            var g = new DynamicGraph();
            var states = new List<Expr>();
            var loss = m.BuildForward(g, sentences, states);
            FsmPolicy? fsm = p == BatchingPolicy.Fsm ? FsmPolicy.Learn(g) : null;
            g.Forward(p, lowerBound: true, fsm: fsm);
            return (g.Value(loss)[0], states.Select(s => g.Value(s).ToArray()).ToArray(), g.LastStats!);
        }
        var (refLoss, refStates, _) = Run(BatchingPolicy.None);
        var (loss, states, stats) = Run(policy);
        Assert.Equal(refLoss, loss, refLoss * 1e-5);
        for (int i = 0; i < refStates.Length; i++) SmallTrees.Close(refStates[i], states[i]);
        Assert.True(stats.KernelCalls >= stats.LowerBound);
        if (policy == BatchingPolicy.Fsm) Assert.Equal(stats.LowerBound, stats.KernelCalls);
    }
}
