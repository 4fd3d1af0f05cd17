using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Loom.Lowering.Trees;

/// <summary>
/// Hummingbird's GEMM strategy. Per tree with I branch nodes and L leaves: gather each node's feature
/// and compare (the B×I condition matrix, 1 where the row goes left), multiply by the I×L path matrix
/// C (C[i,l] = +1 when leaf l is in i's left subtree, -1 in its right subtree, 0 otherwise), and pick
/// the leaf whose sum equals its number of left turns D[l]. Exact in float (small integers). The
/// product with the leaf-value matrix is the shared aggregation step. C grows as 4^depth, so the
/// strategy is offered only for shallow trees.
/// </summary>
public sealed class GemmProgram : TreeProgram
{
    private const int BlockRows = 32;
    /// <summary>Largest total size of the path matrices, in floats.</summary>
    public const long MaxPathElements = 16L << 20;

    private readonly int[][] _nodes; // per tree: its branch nodes (forest indices)
    private readonly int[][] _leaves; // per tree: its leaves (leaf indices)
    private readonly float[][] _path; // per tree: I×L
    private readonly float[][] _lefts; // per tree: D

    // The Hummingbird matrices, read by LowerTreeEnsembles to write the strategy as a tensor program.
    internal int[][] TreeNodes => _nodes;
    internal int[][] TreeLeaves => _leaves;
    internal float[][] PathMatrices => _path;
    internal float[][] LeftCounts => _lefts;

    public static bool Fits(FlatForest f)
    {
        if (!f.OnlyLeq) return false;
        long total = 0;
        foreach (int d in f.Depths) total += (1L << Math.Min(d, 30)) * (1L << Math.Min(d, 30));
        return total <= MaxPathElements;
    }

    public GemmProgram(FlatForest forest) : base(forest)
    {
        if (!Fits(forest)) throw new UnsupportedException("GEMM: the trees are too deep for dense path matrices (or have non-<= comparisons)");
        int trees = forest.TreeCount;
        _nodes = new int[trees][];
        _leaves = new int[trees][];
        _path = new float[trees][];
        _lefts = new float[trees][];
        for (int t = 0; t < trees; t++)
        {
            var nodes = new List<int>();
            var leaves = new List<(int Leaf, List<(int Node, int Sign)> Path)>();
            Collect(forest, forest.Roots[t], [], nodes, leaves);
            int I = nodes.Count, L = leaves.Count;
            var position = nodes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
            var path = new float[Math.Max(1, I * L)];
            var lefts = new float[L];
            for (int l = 0; l < L; l++)
                foreach (var (node, sign) in leaves[l].Path)
                {
                    path[position[node] * L + l] = sign;
                    if (sign > 0) lefts[l]++;
                }
            (_nodes[t], _leaves[t], _path[t], _lefts[t]) = (nodes.ToArray(), leaves.Select(l => l.Leaf).ToArray(), path, lefts);
        }
    }

    private static void Collect(FlatForest f, int child, List<(int, int)> path, List<int> nodes, List<(int, List<(int, int)>)> leaves)
    {
        if (child < 0) { leaves.Add((~child, [.. path])); return; }
        nodes.Add(child);
        path.Add((child, 1));
        Collect(f, f.Left[child], path, nodes, leaves);
        path[^1] = (child, -1);
        Collect(f, f.Right[child], path, nodes, leaves);
        path.RemoveAt(path.Count - 1);
    }

    public override TreeStrategy Strategy => TreeStrategy.Gemm;

    public override void Leaves(ReadOnlySpan<float> x, int features, int rowStart, int rowEnd, int treeStart, int treeEnd, Span<int> leaves, int stride)
    {
        var f = Forest;
        int maxI = 1, maxL = 1;
        for (int t = treeStart; t < treeEnd; t++) { maxI = Math.Max(maxI, _nodes[t].Length); maxL = Math.Max(maxL, _leaves[t].Length); }
        var cond = ArrayPool<float>.Shared.Rent(BlockRows * maxI);
        var sums = ArrayPool<float>.Shared.Rent(BlockRows * maxL);
        try
        {
            for (int r0 = rowStart; r0 < rowEnd; r0 += BlockRows)
            {
                int rows = Math.Min(BlockRows, rowEnd - r0);
                for (int t = treeStart; t < treeEnd; t++)
                {
                    var nodes = _nodes[t];
                    int I = nodes.Length, L = _leaves[t].Length;
                    if (I == 0)
                    {
                        for (int r = 0; r < rows; r++) leaves[(r0 + r - rowStart) * stride + t - treeStart] = _leaves[t][0];
                        continue;
                    }
                    // Condition matrix: B×I, 1 where the row goes left.
                    for (int r = 0; r < rows; r++)
                    {
                        var row = x.Slice((r0 + r) * features, features);
                        for (int i = 0; i < I; i++) cond[r * I + i] = f.GoesLeft(nodes[i], row[f.Feature[nodes[i]]]) ? 1f : 0f;
                    }
                    // (B×I) · (I×L), then the leaf whose sum equals its count of left turns.
                    var path = _path[t];
                    var lefts = _lefts[t];
                    for (int r = 0; r < rows; r++)
                    {
                        var s = sums.AsSpan(r * L, L);
                        s.Clear();
                        for (int i = 0; i < I; i++)
                            if (cond[r * I + i] != 0) Axpy(path.AsSpan(i * L, L), s);
                        int leaf = 0;
                        for (int l = 0; l < L; l++) if (s[l] == lefts[l]) { leaf = l; break; }
                        leaves[(r0 + r - rowStart) * stride + t - treeStart] = _leaves[t][leaf];
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(cond);
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    private static void Axpy(ReadOnlySpan<float> a, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (int k = 0; k < va.Length; k++) vy[k] += va[k];
            i = va.Length * Vector<float>.Count;
        }
        for (; i < a.Length; i++) y[i] += a[i];
    }
}
