namespace Loom.Scheduling;

/// <summary>
/// Finds the nodes every other node either precedes or follows: nothing can run beside them, so they
/// cut the graph into a chain of segments. A bottleneck may use all cores for itself (intra-op threads);
/// between two bottlenecks lies a region whose branches may run side by side.
/// </summary>
public static class Bottlenecks
{
    /// <summary>A run of consecutive nodes: one bottleneck, or the region between two.</summary>
    public readonly record struct Segment(bool IsBottleneck, int[] Nodes);

    /// <summary>
    /// With nodes in topological order, v is a bottleneck exactly when no edge jumps over it, no node
    /// before it is a sink (so all of them lead to v) and no node after it is a source (so v leads to all).
    /// </summary>
    public static bool[] Find(DataflowGraph g)
    {
        int n = g.Count;
        var sourceAfter = new bool[n + 1];
        for (int v = n - 1; v >= 0; v--) sourceAfter[v] = sourceAfter[v + 1] || g.Predecessors(v).Length == 0;
        var result = new bool[n];
        int reach = -1;
        bool sinkBefore = false;
        for (int v = 0; v < n; v++)
        {
            result[v] = reach <= v && !sinkBefore && !sourceAfter[v + 1];
            foreach (var s in g.Successors(v)) reach = Math.Max(reach, s.Node);
            sinkBefore |= g.Successors(v).Length == 0;
        }
        return result;
    }

    /// <summary>The graph as consecutive segments in node order.</summary>
    public static List<Segment> Segments(DataflowGraph g)
    {
        var isBottleneck = Find(g);
        var segments = new List<Segment>();
        var region = new List<int>();
        for (int v = 0; v < g.Count; v++)
        {
            if (!isBottleneck[v]) { region.Add(v); continue; }
            if (region.Count > 0) segments.Add(new Segment(false, region.ToArray()));
            region.Clear();
            segments.Add(new Segment(true, [v]));
        }
        if (region.Count > 0) segments.Add(new Segment(false, region.ToArray()));
        return segments;
    }
}
