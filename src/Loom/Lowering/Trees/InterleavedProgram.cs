using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>Lets the bench compare the AVX2 walk with the scalar one in one process.</summary>
    internal static bool UseAvx2 = true;

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
                    if (UseAvx2 && Avx2.IsSupported && rows >= 16)
                    {
                        for (int r = rowStart; r < rowEnd; r += 16)
                        {
                            int r0 = Math.Min(r, rowEnd - 16);
                            WalkRows16(tree, px + (long)r0 * features, features, pl + (r0 - rowStart) * stride + t - treeStart, stride, _depth[t]);
                        }
                        continue;
                    }
                    for (int r = rowStart; r < rowEnd; r += Lanes)
                    {
                        int r0 = Math.Min(r, rowEnd - Lanes); // the last group overlaps the previous one
                        WalkRows(tree, px + (long)r0 * features, features, idx, _depth[t]);
                        for (int k = 0; k < Lanes; k++) pl[(r0 + k - rowStart) * stride + t - treeStart] = tree[idx[k]].Leaf;
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

    /// <summary>
    /// 8 consecutive rows through one tree: one tree pointer and one row pointer (lane k reads row k at
    /// k·features), so the 8 walks fit in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WalkRows(Slot* tree, float* rows, int features, int* idx, int depth)
    {
        int i0 = 0, i1 = 0, i2 = 0, i3 = 0, i4 = 0, i5 = 0, i6 = 0, i7 = 0;
        nint f1 = features, f2 = 2 * f1, f3 = 3 * f1, f4 = 4 * f1;
        float* upper = rows + f4;
        for (int d = 0; d < depth; d++)
        {
            i0 = Step(tree + i0, rows);
            i1 = Step(tree + i1, rows + f1);
            i2 = Step(tree + i2, rows + f2);
            i3 = Step(tree + i3, rows + f3);
            i4 = Step(tree + i4, upper);
            i5 = Step(tree + i5, upper + f1);
            i6 = Step(tree + i6, upper + f2);
            i7 = Step(tree + i7, upper + f3);
        }
        idx[0] = i0; idx[1] = i1; idx[2] = i2; idx[3] = i3; idx[4] = i4; idx[5] = i5; idx[6] = i6; idx[7] = i7;
    }

    /// <summary>
    /// 16 consecutive rows through one tree with AVX2 gathers: two vectors of 8 walks, each level
    /// gathering the nodes' feature, threshold and left child, then the rows' feature values.
    /// Writes each row's leaf to <c>leaves[k · stride]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WalkRows16(Slot* tree, float* rows, int features, int* leaves, int stride, int depth)
    {
        var ints = (int*)tree;
        var floats = (float*)tree;
        var rowOffset = Vector256.Create(0, features, 2 * features, 3 * features, 4 * features, 5 * features, 6 * features, 7 * features);
        float* rowsHigh = rows + 8 * features;
        var mask = Vector256.Create(int.MaxValue);
        var one = Vector256.Create(1);
        Vector256<int> a = Vector256<int>.Zero, b = Vector256<int>.Zero;
        for (int d = 0; d < depth; d++)
        {
            a = StepVector(ints, floats, rows, rowOffset, mask, one, a);
            b = StepVector(ints, floats, rowsHigh, rowOffset, mask, one, b);
        }
        var la = Avx2.GatherVector256(ints + 3, Avx2.ShiftLeftLogical(a, 2), 4);
        var lb = Avx2.GatherVector256(ints + 3, Avx2.ShiftLeftLogical(b, 2), 4);
        for (int k = 0; k < 8; k++)
        {
            leaves[k * stride] = la.GetElement(k);
            leaves[(k + 8) * stride] = lb.GetElement(k);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> StepVector(int* ints, float* floats, float* rows, Vector256<int> rowOffset, Vector256<int> mask, Vector256<int> one, Vector256<int> idx)
    {
        var at = Avx2.ShiftLeftLogical(idx, 2);
        var feature = Avx2.GatherVector256(ints, at, 4);
        var threshold = Avx2.GatherVector256(floats + 1, at, 4);
        var left = Avx2.GatherVector256(ints + 2, at, 4);
        var x = Avx2.GatherVector256(rows, Avx2.Add(rowOffset, Avx2.And(feature, mask)), 4);
        // all-ones where the row goes left: x <= threshold, or x is NaN and the node's flag (sign bit) is set
        var goLeft = Avx.Or(Avx.CompareLessThanOrEqual(x, threshold), Avx.And(Avx.CompareUnordered(x, x), Avx2.ShiftRightArithmetic(feature, 31).AsSingle())).AsInt32();
        return Avx2.Add(Avx2.Add(left, one), goLeft);
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
