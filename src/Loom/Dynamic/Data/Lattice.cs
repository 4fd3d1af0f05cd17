namespace Loom.Dynamic.Data;

/// <summary>
/// A character–word lattice (ED-Batch's lattice benchmark): nodes 0..L−1 in topological order, a tag at
/// every node, and per node its incoming arcs (from-node, token). An arc from i−1 is a character arc, an
/// arc from an earlier node a word arc. Arcs are stored compressed: node i's arcs are
/// <c>[ArcStart[i], ArcStart[i+1])</c>.
/// </summary>
public sealed class Lattice(int[] tags, int[] arcStart, int[] arcFrom, int[] arcToken, int line)
{
    public int[] Tags { get; } = tags;
    public int[] ArcStart { get; } = arcStart;
    public int[] ArcFrom { get; } = arcFrom;
    public int[] ArcToken { get; } = arcToken;
    /// <summary>The 1-based line where the lattice starts.</summary>
    public int Line { get; } = line;

    public int NodeCount => Tags.Length;
    public int ArcCount => ArcFrom.Length;
    public bool IsCharArc(int node, int arc) => ArcFrom[arc] == node - 1;
}
