using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loom.Lowering.Trees;

/// <summary>
/// Loom's own strategy (see <see cref="TreeStrategy.Interleaved"/>). Each tree is laid out breadth-first
/// with the two children of a node in adjacent slots, so the next node is <c>Left + (x &gt; threshold)</c>
/// with no branch. Leaves are nodes that send every value to themselves, so every walk in a tree takes
/// the same number of steps (the tree's depth) and 8 walks advance in lock step.
/// </summary>
public sealed unsafe class InterleavedProgram : TreeProgram
{
    private const int Lanes = 8;

    /// <summary>One node in 16 bytes. <see cref="Feature"/>'s top bit is the NaN-goes-left flag.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Slot
    {
        public int Feature;
        public float Threshold;
        public int Left;
        public int Leaf;
    }

    private readonly Slot[] _slots;
    private readonly int[] _treeStart;
    private readonly int[] _depth;

    public InterleavedProgram(FlatForest forest) : base(forest)
    {
        if (forest.HasGeneral) throw new UnsupportedException("the interleaved layout encodes only <= comparisons");
        var slots = new List<Slot>();
        _treeStart = new int[forest.TreeCount];
        _depth = forest.Depths;
        var queue = new Queue<(int Child, int Slot)>();
        for (int t = 0; t < forest.TreeCount; t++)
        {
            _treeStart[t] = slots.Count;
            slots.Add(default);
            queue.Enqueue((forest.Roots[t], slots.Count - 1));
            while (queue.Count > 0)
            {
                var (child, at) = queue.Dequeue();
                int local = at - _treeStart[t];
                if (child < 0)
                {
                    // A leaf: always left (threshold +inf, NaN left), and left is itself.
                    slots[at] = new Slot { Feature = 0 | int.MinValue, Threshold = float.PositiveInfinity, Left = local, Leaf = ~child };
                    continue;
                }
                int left = slots.Count - _treeStart[t];
                slots.Add(default);
                slots.Add(default);
                slots[at] = new Slot
                {
                    Feature = forest.Feature[child] | (forest.NanLeft[child] ? int.MinValue : 0),
                    Threshold = forest.Threshold[child], Left = left, Leaf = -1,
                };
                queue.Enqueue((forest.Left[child], _treeStart[t] + left));
                queue.Enqueue((forest.Right[child], _treeStart[t] + left + 1));
            }
        }
        _slots = slots.ToArray();
    }

    public override TreeStrategy Strategy => TreeStrategy.Interleaved;

    public override void Leaves(ReadOnlySpan<float> x, int features, int rowStart, int rowEnd, int treeStart, int treeEnd, Span<int> leaves, int stride)
    {
        int rows = rowEnd - rowStart;
        fixed (float* px = x)
        fixed (Slot* slots = _slots)
        fixed (int* pl = leaves)
        {
            var rowPtr = stackalloc float*[Lanes];
            var idx = stackalloc int[Lanes];
            var bases = stackalloc Slot*[Lanes];
            var outAt = stackalloc int[Lanes];
            if (rows >= Lanes)
            {
                // Lanes are 8 rows walking the same tree.
                for (int t = treeStart; t < treeEnd; t++)
                {
                    var tree = slots + _treeStart[t];
                    for (int k = 0; k < Lanes; k++) bases[k] = tree;
                    for (int r = rowStart; r < rowEnd; r += Lanes)
                    {
                        int r0 = Math.Min(r, rowEnd - Lanes); // the last group overlaps the previous one
                        for (int k = 0; k < Lanes; k++) { rowPtr[k] = px + (long)(r0 + k) * features; idx[k] = 0; outAt[k] = (r0 + k - rowStart) * stride + t - treeStart; }
                        Walk(bases, rowPtr, idx, _depth[t]);
                        for (int k = 0; k < Lanes; k++) pl[outAt[k]] = tree[idx[k]].Leaf;
                    }
                }
            }
            else
            {
                // Few rows: lanes are 8 trees of one row.
                for (int r = rowStart; r < rowEnd; r++)
                {
                    for (int k = 0; k < Lanes; k++) rowPtr[k] = px + (long)r * features;
                    for (int t = treeStart; t < treeEnd; t += Lanes)
                    {
                        int depth = 0;
                        for (int k = 0; k < Lanes; k++)
                        {
                            int tk = Math.Min(t + k, treeEnd - 1); // spare lanes repeat the last tree
                            bases[k] = slots + _treeStart[tk];
                            idx[k] = 0;
                            outAt[k] = (r - rowStart) * stride + tk - treeStart;
                            depth = Math.Max(depth, _depth[tk]);
                        }
                        Walk(bases, rowPtr, idx, depth);
                        for (int k = 0; k < Lanes; k++) pl[outAt[k]] = bases[k][idx[k]].Leaf;
                    }
                }
            }
        }
    }

    /// <summary>Advances 8 walks <paramref name="depth"/> steps; written out so the 8 chains of loads overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Walk(Slot** b, float** row, int* idx, int depth)
    {
        int i0 = idx[0], i1 = idx[1], i2 = idx[2], i3 = idx[3], i4 = idx[4], i5 = idx[5], i6 = idx[6], i7 = idx[7];
        Slot* b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], b4 = b[4], b5 = b[5], b6 = b[6], b7 = b[7];
        float* r0 = row[0], r1 = row[1], r2 = row[2], r3 = row[3], r4 = row[4], r5 = row[5], r6 = row[6], r7 = row[7];
        for (int d = 0; d < depth; d++)
        {
            i0 = Step(b0 + i0, r0);
            i1 = Step(b1 + i1, r1);
            i2 = Step(b2 + i2, r2);
            i3 = Step(b3 + i3, r3);
            i4 = Step(b4 + i4, r4);
            i5 = Step(b5 + i5, r5);
            i6 = Step(b6 + i6, r6);
            i7 = Step(b7 + i7, r7);
        }
        idx[0] = i0; idx[1] = i1; idx[2] = i2; idx[3] = i3; idx[4] = i4; idx[5] = i5; idx[6] = i6; idx[7] = i7;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Step(Slot* s, float* row)
    {
        int f = s->Feature;
        float v = row[f & int.MaxValue];
        // left when v <= threshold, or v is NaN and the node sends NaN left (flag in f's sign bit).
        int left = (v <= s->Threshold ? 1 : 0) | ((float.IsNaN(v) ? 1 : 0) & (int)((uint)f >> 31));
        return s->Left + 1 - left;
    }
}
