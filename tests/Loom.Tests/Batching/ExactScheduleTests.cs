using Loom.Dynamic;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Models;

namespace Loom.Tests.BatchingTests;

/// <summary>
/// The exact batch-count solver (<see cref="ExactSchedule"/>) against optima worked out by hand and against a plain
/// breadth-first search over every type sequence (no peeling, no components, no forced steps).
/// </summary>
public class ExactScheduleTests
{
    /// <summary>Independent chains, one per string, each letter a type ('A' = 0): the optimum is their shortest common supersequence.</summary>
    private static BatchProblem Chains(params string[] words)
    {
        var types = new List<int>();
        var inputs = new List<int[]>();
        foreach (var w in words)
            for (int i = 0; i < w.Length; i++)
            {
                inputs.Add(i == 0 ? [] : [types.Count - 1]);
                types.Add(w[i] - 'A');
            }
        return new BatchProblem([.. types], [.. inputs]);
    }

    [Theory]
    [InlineData(2, 3, "AB", "BA")]          // ABA (or BAB); each type once per path
    [InlineData(4, 4, "ABAB")]              // a single chain: its own length
    [InlineData(4, 5, "AAB", "BBA")]        // longest common subsequence 1, so 3 + 3 − 1
    [InlineData(4, 4, "ABA", "BAB", "AB")]  // ABAB holds all three
    [InlineData(3, 5, "ABC", "CBA")]        // LCS 1: 3 + 3 − 1
    public void ChainsNeedTheirShortestCommonSupersequence(int typeWise, int optimum, params string[] words)
    {
        var r = ExactSchedule.Solve(Chains(words));
        Assert.Equal(typeWise, r.TypeWise);
        Assert.True(r.Exact);
        Assert.Equal(optimum, r.UpperBound);
    }

    [Fact]
    public void SourceAndSinkTypesArePeeledExactly()
    {
        // Two lookups (type 0) feed chains A→B and B→A (types 1, 2); a loss (type 3) after each, one sum (type 4) of both.
        int[] types = [0, 0, 1, 2, 2, 1, 3, 3, 4];
        int[][] inputs = [[], [], [0], [2], [1], [4], [3], [5], [6, 7]];
        var r = ExactSchedule.Solve(new BatchProblem(types, inputs));
        Assert.Equal(5, r.TypeWise);
        Assert.Equal(6, r.UpperBound);  // lookup, A B A (or B A B), loss, sum
        Assert.True(r.Exact);
        var (peeled, rest) = ExactSchedule.Peel(new BatchProblem(types, inputs));
        Assert.Equal(1, peeled);
        Assert.Equal(7, rest.NodeCount);
    }

    /// <summary>Fewest steps by breadth-first search over executed sets, every type with a ready node tried.</summary>
    private static int BruteForce(BatchProblem p)
    {
        var full = (1 << p.NodeCount) - 1;
        var dist = new Dictionary<int, int> { [0] = 0 };
        var queue = new Queue<int>([0]);
        while (queue.Count > 0)
        {
            int s = queue.Dequeue();
            if (s == full) return dist[s];
            for (int t = 0; t < p.TypeCount; t++)
            {
                int next = s;
                for (int n = 0; n < p.NodeCount; n++)
                    if (p.Types[n] == t && (s >> n & 1) == 0 && p.Inputs[n].All(x => (s >> x & 1) != 0)) next |= 1 << n;
                if (next != s && dist.TryAdd(next, dist[s] + 1)) queue.Enqueue(next);
            }
        }
        throw new InvalidOperationException("unreachable");
    }

    [Fact]
    public void RandomSmallGraphsMatchBruteForce()
    {
        var rng = new Loom.Dynamic.Data.SplitMix64(7);
        int gaps = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            int n = 4 + (int)(rng.Next() % 13), typeCount = 2 + (int)(rng.Next() % 3);
            var types = new int[n];
            var inputs = new int[n][];
            for (int i = 0; i < n; i++)
            {
                types[i] = (int)(rng.Next() % (ulong)typeCount);
                var ins = new HashSet<int>();
                int k = i == 0 ? 0 : (int)(rng.Next() % 3);
                for (int j = 0; j < k; j++) ins.Add((int)(rng.Next() % (ulong)i));
                inputs[i] = [.. ins.Order()];
            }
            var p = new BatchProblem(types, inputs);
            int expected = BruteForce(p);
            // A beam of one (a greedy schedule) is often not optimal, so A* must find the optimum itself.
            var r = ExactSchedule.Solve(p, beamWidth: 1);
            Assert.True(r.Exact, $"trial {trial}");
            Assert.Equal(expected, r.UpperBound);
            Assert.True(r.TypeWise <= expected);
            if (r.TypeWise < expected) gaps++;
            // Out of states at once: still a valid bracket.
            var cut = ExactSchedule.Solve(p, maxStates: 1, beamWidth: 1);
            Assert.InRange(expected, cut.LowerBound, cut.UpperBound);
        }
        Assert.True(gaps > 10, $"only {gaps} graphs where the type-wise bound is not reached: the test is too easy");
    }

    [Fact]
    public void TypeWiseBoundAgreesWithTheGraphsAndFsmIsNoBetterThanOptimal()
    {
        var dags = RandomDag.Generate(2, nodes: 40, seed: 3);
        var m = new RandomDag(4);
        var g = new DynamicGraph();
        m.BuildForward(g, dags, cells: true);
        var r = ExactSchedule.Solve(BatchProblem.From(g));
        g.Forward(BatchingPolicy.Fsm, lowerBound: true, fsm: FsmPolicy.Learn(g));
        Assert.Equal(g.LastStats!.LowerBound, r.TypeWise);
        Assert.True(r.Exact);
        Assert.InRange(r.UpperBound, r.TypeWise, g.LastStats.KernelCalls);
    }

    [Fact]
    public void NoPolicyBeatsTheOptimumOnLatticesAndDags()
    {
        // Three of the 32 lattices of CellTests (the ones that need the most steps together) and one of its 8 DAGs:
        // solved exactly, and every real schedule (agenda, the learned FSM) needs at least that many calls.
        var lats = Loom.Dynamic.Data.LatticeReader.ReadFile(SharedData.Require("data", "lattice", "train.txt"), 32);
        var lm = new LatticeGru(4, lats.Max(l => l.Tags.Max()) + 1);
        var dags = RandomDag.Generate(8, seed: 1);
        var dm = new RandomDag(4);
        foreach (Action<DynamicGraph> build in new Action<DynamicGraph>[]
                 { g => lm.BuildForward(g, [lats[17], lats[27], lats[9]], cells: true), g => dm.BuildForward(g, [dags[0]], cells: true) })
        {
            var g = new DynamicGraph();
            build(g);
            var r = ExactSchedule.Solve(BatchProblem.From(g));
            Assert.True(r.Exact);
            Assert.True(r.UpperBound > r.TypeWise, $"optimum {r.UpperBound}, type-wise bound {r.TypeWise}");
            g.Forward(BatchingPolicy.Agenda);
            Assert.True(g.LastStats!.KernelCalls >= r.UpperBound);
            g.Forward(BatchingPolicy.Fsm, fsm: FsmPolicy.Learn(g));
            Assert.True(g.LastStats!.KernelCalls >= r.UpperBound);
        }
    }
}
