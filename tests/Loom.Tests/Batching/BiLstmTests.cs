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
        var stats = PolicyParity.Check((g, states) => m.BuildForward(g, sentences, states), policy);
        if (policy == BatchingPolicy.Fsm) Assert.Equal(stats.LowerBound, stats.KernelCalls);
    }
}
