using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Lowering.Trees;

/// <summary>
/// Loom's own strategy (see <see cref="TreeStrategy.Interleaved"/>). Each tree is laid out breadth-first
/// with the two children of a node in adjacent slots, so the next node is <c>Left + (x &gt; threshold)</c>
/// with no branch. Leaves are nodes that send every value to themselves, so every walk in a tree takes
/// the same number of steps (the tree's depth) and many walks advance in lock step: 16 rows of one tree
/// (a batch) or 16 trees of one row (a single row), as two AVX2 vectors of 8 gathers, or 8 scalar
/// walks without AVX2. Slot indices are global, so lanes in different trees share one base pointer.
/// </summary>
public sealed unsafe partial class InterleavedProgram : TreeProgram
{
    private const int Lanes = 8;

    /// <summary>Lets the bench compare the AVX2 walk with the scalar one in one process.</summary>
    internal static bool UseAvx2 = true;

    /// <summary>One node in 16 bytes. <see cref="Feature"/>'s top bit is the NaN-goes-left flag; <see cref="Left"/> is a global slot index.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Slot
    {
        public int Feature;
        public float Threshold;
        public int Left;
        public int Leaf;
    }

    private readonly Slot[] _slots;
    private readonly int[] _root;
    private readonly int[] _depth;
    /// <summary>The value of each leaf slot, when every leaf holds exactly one weight (for <see cref="Accumulate"/>).</summary>
    private readonly double[]? _value;
    /// <summary>The category sets' bit words; a set node's slot points into this.</summary>
    private readonly uint[] _bits;
    private readonly bool _categorical;
    private const int CategoryFlag = 1 << 30;
    private const int FeatureMask = CategoryFlag - 1;

    public InterleavedProgram(FlatForest forest) : base(forest)
    {
        if (forest.HasGeneral) throw new UnsupportedException("the interleaved layout encodes only <= comparisons and category sets");
        var slots = new List<Slot>();
        var bits = new List<uint>();
        _root = new int[forest.TreeCount];
        _depth = forest.Depths;
        var queue = new Queue<(int Child, int Slot)>();
        for (int t = 0; t < forest.TreeCount; t++)
        {
            _root[t] = slots.Count;
            slots.Add(default);
            queue.Enqueue((forest.Roots[t], slots.Count - 1));
            while (queue.Count > 0)
            {
                var (child, at) = queue.Dequeue();
                if (child < 0)
                {
                    // A leaf: always left (threshold +inf, NaN left), and left is itself.
                    slots[at] = new Slot { Feature = int.MinValue, Threshold = float.PositiveInfinity, Left = at, Leaf = ~child };
                    continue;
                }
                int left = slots.Count;
                slots.Add(default);
                slots.Add(default);
                int flags = forest.NanLeft[child] ? int.MinValue : 0;
                if (forest.Bitset[child] is { } set)
                {
                    // A category set: the threshold field holds the set's offset in _bits, the leaf field its length.
                    slots[at] = new Slot { Feature = forest.Feature[child] | flags | CategoryFlag, Threshold = BitConverter.Int32BitsToSingle(bits.Count), Left = left, Leaf = set.Length };
                    bits.AddRange(set);
                }
                else slots[at] = new Slot { Feature = forest.Feature[child] | flags, Threshold = forest.Threshold[child], Left = left, Leaf = -1 };
                queue.Enqueue((forest.Left[child], left));
                queue.Enqueue((forest.Right[child], left + 1));
            }
        }
        if ((long)slots.Count * 4 > int.MaxValue) throw new UnsupportedException($"the ensemble has {slots.Count} nodes, too many for the interleaved layout");
        _slots = slots.ToArray();
        _bits = bits.Count > 0 ? bits.ToArray() : [0];
        _categorical = forest.HasCategorical;
        var spec = forest.Spec;
        if (spec.OneWeightPerLeaf)
        {
            _value = new double[_slots.Length];
            for (int i = 0; i < _slots.Length; i++)
                if (_slots[i].Left == i) _value[i] = spec.WeightValues[spec.LeafStart[_slots[i].Leaf]];
        }
    }

    public override bool Accumulate(ReadOnlySpan<float> x, int features, int rowStart, int rowEnd, int[] treeTarget, Span<double> acc, int accStride)
    {
        if (_value is null) return false;
        int rows = rowEnd - rowStart, trees = _root.Length;
        bool vector = UseAvx2 && Avx2.IsSupported;
        int lanes = vector ? 16 : Lanes;
        fixed (float* px = x)
        fixed (Slot* slots = _slots)
        fixed (uint* bits = _bits)
        fixed (double* value = _value)
        fixed (double* pa = acc)
        {
            var idx = stackalloc int[16];
            var rowPtr = stackalloc float*[Lanes];
            if (rows >= lanes || trees < lanes)
            {
                for (int t = 0; t < trees; t++)
                {
                    double* sums = pa + (long)treeTarget[t] * accStride;
                    for (int r = rowStart; r < rowEnd; r += lanes)
                    {
                        // The last group may overlap the one before: its first (r - r0) lanes are already added.
                        int r0 = Math.Max(rowStart, Math.Min(r, rowEnd - lanes));
                        int n = Math.Min(lanes, rows);
                        for (int k = 0; k < lanes; k++) idx[k] = _root[t];
                        if (vector && n == 16) WalkVector(slots, bits, px + (long)r0 * features, features, features, idx, _depth[t]);
                        else
                        {
                            for (int k = 0; k < Lanes; k++) rowPtr[k] = px + (long)(r0 + Math.Min(k, n - 1)) * features;
                            WalkScalar(slots, bits, rowPtr, idx, _depth[t]);
                        }
                        for (int k = r - r0; k < n; k++) sums[r0 + k - rowStart] += value[idx[k]];
                    }
                }
                return true;
            }
            for (int r = rowStart; r < rowEnd; r++)
                for (int t = 0; t < trees; t += lanes)
                {
                    int depth = 0, count = Math.Min(lanes, trees - t);
                    for (int k = 0; k < lanes; k++)
                    {
                        int tk = t + Math.Min(k, count - 1);
                        idx[k] = _root[tk];
                        depth = Math.Max(depth, _depth[tk]);
                    }
                    if (vector) WalkVector(slots, bits, px + (long)r * features, 0, 0, idx, depth);
                    else
                    {
                        for (int k = 0; k < Lanes; k++) rowPtr[k] = px + (long)r * features;
                        WalkScalar(slots, bits, rowPtr, idx, depth);
                    }
                    for (int k = 0; k < count; k++) pa[(long)treeTarget[t + k] * accStride + r - rowStart] += value[idx[k]];
                }
        }
        return true;
    }

    public override TreeStrategy Strategy => TreeStrategy.Interleaved;

    public override void Leaves(ReadOnlySpan<float> x, int features, int rowStart, int rowEnd, int treeStart, int treeEnd, Span<int> leaves, int stride)
    {
        int rows = rowEnd - rowStart, trees = treeEnd - treeStart;
        bool vector = UseAvx2 && Avx2.IsSupported;
        int lanes = vector ? 16 : Lanes;
        fixed (float* px = x)
        fixed (Slot* slots = _slots)
        fixed (uint* bits = _bits)
        fixed (int* pl = leaves)
        {
            var idx = stackalloc int[16];
            var rowPtr = stackalloc float*[Lanes];
            var outAt = stackalloc int[16];
            if (rows >= lanes || trees < lanes)
            {
                // Lanes are rows walking one tree (the last group overlaps the one before).
                for (int t = treeStart; t < treeEnd; t++)
                    for (int r = rowStart; r < rowEnd; r += lanes)
                    {
                        int r0 = Math.Max(rowStart, Math.Min(r, rowEnd - lanes));
                        int n = Math.Min(lanes, rows);
                        for (int k = 0; k < lanes; k++) idx[k] = _root[t];
                        for (int k = 0; k < n; k++) outAt[k] = (r0 + k - rowStart) * stride + t - treeStart;
                        if (vector && n == 16) WalkVector(slots, bits, px + (long)r0 * features, features, features, idx, _depth[t]);
                        else
                        {
                            for (int k = 0; k < Lanes; k++) rowPtr[k] = px + (long)(r0 + Math.Min(k, n - 1)) * features;
                            WalkScalar(slots, bits, rowPtr, idx, _depth[t]);
                        }
                        for (int k = 0; k < n; k++) pl[outAt[k]] = slots[idx[k]].Leaf;
                    }
                return;
            }
            // Few rows: lanes are trees of one row (spare lanes repeat the last tree).
            for (int r = rowStart; r < rowEnd; r++)
                for (int t = treeStart; t < treeEnd; t += lanes)
                {
                    int depth = 0;
                    for (int k = 0; k < lanes; k++)
                    {
                        int tk = Math.Min(t + k, treeEnd - 1);
                        idx[k] = _root[tk];
                        outAt[k] = (r - rowStart) * stride + tk - treeStart;
                        depth = Math.Max(depth, _depth[tk]);
                    }
                    if (vector) WalkVector(slots, bits, px + (long)r * features, 0, 0, idx, depth);
                    else
                    {
                        for (int k = 0; k < Lanes; k++) rowPtr[k] = px + (long)r * features;
                        WalkScalar(slots, bits, rowPtr, idx, depth);
                    }
                    for (int k = 0; k < lanes; k++) pl[outAt[k]] = slots[idx[k]].Leaf;
                }
        }
    }

    /// <summary>The walk, specialized for forests with or without category sets.</summary>
    private void WalkVector(Slot* slots, uint* bits, float* rows, int laneStride, int blockStride, int* idx, int depth)
    {
        if (_categorical) WalkVector<MixedRule>(slots, bits, rows, laneStride, blockStride, idx, depth);
        else WalkVector<LeqRule>(slots, bits, rows, laneStride, blockStride, idx, depth);
    }

    private void WalkScalar(Slot* slots, uint* bits, float** row, int* idx, int depth)
    {
        if (_categorical) WalkScalar<MixedRule>(slots, bits, row, idx, depth);
        else WalkScalar<LeqRule>(slots, bits, row, idx, depth);
    }

    /// <summary>
    /// 16 walks with AVX2 gathers, as two vectors of 8: each level gathers the nodes' feature, threshold
    /// and left child, then the rows' values. Lane k reads the row at <c>rows + k·laneStride</c> (the
    /// second vector from <c>rows + 8·blockStride</c>); a stride of 0 makes all lanes read one row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WalkVector<TRule>(Slot* slots, uint* bits, float* rows, int laneStride, int blockStride, int* idx, int depth) where TRule : struct, IStepRule
    {
        var ints = (int*)slots;
        var floats = (float*)slots;
        var rowOffset = Vector256.Create(0, laneStride, 2 * laneStride, 3 * laneStride, 4 * laneStride, 5 * laneStride, 6 * laneStride, 7 * laneStride);
        float* rowsHigh = rows + 8L * blockStride;
        var a = Vector256.Load(idx);
        var b = Vector256.Load(idx + 8);
        for (int d = 0; d < depth; d++)
        {
            var na = TRule.Vector(ints, floats, bits, rows, rowOffset, a);
            var nb = TRule.Vector(ints, floats, bits, rowsHigh, rowOffset, b);
            // Unbalanced trees (LightGBM grows leaf-wise): stop once all 16 walks sit on self-looping leaves.
            bool done = Avx2.MoveMask(Avx2.And(Avx2.CompareEqual(na, a), Avx2.CompareEqual(nb, b)).AsByte()) == -1;
            (a, b) = (na, nb);
            if (done) break;
        }
        a.Store(idx);
        b.Store(idx + 8);
    }

    /// <summary>8 scalar walks, written out so the 8 chains of loads overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WalkScalar<TRule>(Slot* s, uint* bits, float** row, int* idx, int depth) where TRule : struct, IStepRule
    {
        int i0 = idx[0], i1 = idx[1], i2 = idx[2], i3 = idx[3], i4 = idx[4], i5 = idx[5], i6 = idx[6], i7 = idx[7];
        float* r0 = row[0], r1 = row[1], r2 = row[2], r3 = row[3], r4 = row[4], r5 = row[5], r6 = row[6], r7 = row[7];
        for (int d = 0; d < depth; d++)
        {
            i0 = TRule.Scalar(s + i0, r0, bits);
            i1 = TRule.Scalar(s + i1, r1, bits);
            i2 = TRule.Scalar(s + i2, r2, bits);
            i3 = TRule.Scalar(s + i3, r3, bits);
            i4 = TRule.Scalar(s + i4, r4, bits);
            i5 = TRule.Scalar(s + i5, r5, bits);
            i6 = TRule.Scalar(s + i6, r6, bits);
            i7 = TRule.Scalar(s + i7, r7, bits);
        }
        idx[0] = i0; idx[1] = i1; idx[2] = i2; idx[3] = i3; idx[4] = i4; idx[5] = i5; idx[6] = i6; idx[7] = i7;
    }
}
