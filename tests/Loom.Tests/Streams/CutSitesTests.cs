using Loom.Inference;
using Loom.IR;
using Loom.Scheduling;
using Loom.Streams.Models;

namespace Loom.Tests.StreamTests;

/// <summary>
/// The partitioner's cut for stages on machines of different speeds and links (a pipeline across cluster silos):
/// on a chain of six equal Relus (s seconds each, every gap carrying the same one tensor), the balanced cut moves
/// by hand-computed amounts when one site is slower or its link costs more.
/// </summary>
public sealed class CutSitesTests
{
    private static CutProfile Chain()
    {
        var vector = new TensorType(DataType.Float, Shape.Of(1, 4096));
        string[] names = ["x", "a", "b", "c", "d", "e", "y"];
        var nodes = Enumerable.Range(0, 6).Select(i => new Node("Relu", [names[i]], [names[i + 1]])).ToList();
        var graph = new IR.Graph("chain", [new ValueInfo("x", vector)], [new ValueInfo("y", vector)], nodes, new Dictionary<string, Tensor>());
        var concrete = ShapeInference.Run(new Model(graph, new Dictionary<string, int> { [""] = 17 })).Graph;
        return new CutProfile(graph, concrete, new CostModel(MachineProfile.Fixed(2)));
    }

    [Fact]
    public void A_slower_site_gets_fewer_nodes()
    {
        var cuts = Chain();
        Assert.All(cuts.Seconds, s => Assert.Equal(cuts.Seconds[0], s, 12));
        // Slowdowns 1 and 2: max(c·s, (6 − c)·2s) is least at c = 4 (4s against 4s); c = 3 or 5 gives 6s or 5s.
        Assert.Equal([0, 4], cuts.Cut([new StageSite(1, 0, 0), new StageSite(2, 0, 0)]));
        Assert.Equal([0, 2], cuts.Cut([new StageSite(2, 0, 0), new StageSite(1, 0, 0)]));
        Assert.Equal([0, 3], cuts.Cut([new StageSite(1, 0, 0), new StageSite(1, 0, 0)]));
    }

    [Fact]
    public void A_costly_link_counts_against_its_stage()
    {
        var cuts = Chain();
        double s = cuts.Seconds[0];
        // Site 1's link costs 2s a message: its stage pays it for the one tensor crossing in (the last stage sends
        // nothing on), so max(c·s, (6 − c)·s + 2s) is least at c = 4.
        Assert.Equal([0, 4], cuts.Cut([new StageSite(1, 0, 0), new StageSite(1, 2 * s, 0)]));
        // The same cost per byte instead: 2s over the tensor's 16 KiB.
        Assert.Equal([0, 4], cuts.Cut([new StageSite(1, 0, 0), new StageSite(1, 0, 2 * s / cuts.CrossBytes(3))]));
        Assert.Equal(cuts.CrossBytes(1), cuts.CrossBytes(5)); // every gap carries the same bytes, so only time moved the cut
    }
}
