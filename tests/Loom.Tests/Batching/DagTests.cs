using Loom.Dynamic;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Models;

namespace Loom.Tests.BatchingTests;

/// <summary>Random DAGs (ED-Batch's workload): shape of the generated graphs, and every policy equals the unbatched run.</summary>
public class DagTests
{
    [Fact]
    public void GeneratedDagsHaveTheAskedInDegreeAndOrder()
    {
        var dags = RandomDag.Generate(3, nodes: 50, inDegree: 4, seed: 5);
        foreach (var d in dags)
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal(Math.Min(i, 4), d.Inputs[i].Length);
                Assert.All(d.Inputs[i], j => Assert.InRange(j, 0, i - 1));
                Assert.Equal(d.Inputs[i].Length, d.Inputs[i].Distinct().Count());
            }
    }

    [Theory]
    [InlineData(BatchingPolicy.Depth)]
    [InlineData(BatchingPolicy.Agenda)]
    [InlineData(BatchingPolicy.Fsm)]
    public void EveryPolicyGivesTheUnbatchedValues(BatchingPolicy policy)
    {
        var dags = RandomDag.Generate(4, nodes: 40, seed: 2);
        var m = new RandomDag(16);
        PolicyParity.Check((g, states) => m.BuildForward(g, dags, states), policy);
    }
}
