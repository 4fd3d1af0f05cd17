namespace Loom.Scheduling;

/// <summary>
/// Critical-path-based linear clustering (Kim and Browne; the first phase of Ramiel): take the heaviest
/// path of the nodes not yet clustered — node times plus the transfer costs of its edges, which become
/// free once both ends share a core — make it a cluster, and repeat on the rest. Each cluster is a chain,
/// so it never holds two nodes that could run at the same time, and the heaviest communication is kept
/// on one core. O(clusters · (V + E)).
/// </summary>
public static class LinearClustering
{
    /// <summary>The clusters, heaviest path first; each lists its nodes in dependency order.</summary>
    public static int[][] Run(DataflowGraph g)
    {
        int n = g.Count;
        var clustered = new bool[n];
        var best = new double[n];
        var from = new int[n];
        var clusters = new List<int[]>();
        int remaining = n;
        while (remaining > 0)
        {
            // Longest path ending at each unclustered node, through unclustered nodes only.
            int end = -1;
            for (int v = 0; v < n; v++)
            {
                if (clustered[v]) continue;
                from[v] = -1;
                double bestIn = 0;
                foreach (var p in g.Predecessors(v))
                {
                    if (clustered[p.Node]) continue;
                    double through = best[p.Node] + p.Cost;
                    if (from[v] < 0 || through > bestIn) { from[v] = p.Node; bestIn = through; }
                }
                best[v] = g.Weight(v) + bestIn;
                if (end < 0 || best[v] > best[end]) end = v;
            }
            var path = new List<int>();
            for (int v = end; v >= 0; v = from[v]) path.Add(v);
            path.Reverse();
            foreach (var v in path) clustered[v] = true;
            remaining -= path.Count;
            clusters.Add(path.ToArray());
        }
        return clusters.ToArray();
    }
}
