using static Loom.Tests.Kernels.ShapeOrtCheck;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>Randomised shapes and parameters, each checked element for element against ONNX Runtime.</summary>
public sealed class ShapeOrtComparisonTests
{
    [Fact]
    public void TransposeRandomPermutations()
    {
        var rng = new Random(1);
        for (int n = 0; n < 30; n++)
        {
            int rank = rng.Next(1, 6);
            var perm = Enumerable.Range(0, rank).OrderBy(_ => rng.Next()).Select(p => (long)p).ToArray();
            Same("Transpose", [Attr.Ints("perm", perm)], 1, 21, Iota(RandomShape(rng, rank)));
        }
    }

    [Fact]
    public void TransposeLargeBlocksAndRaggedEdges()
    {
        // Sizes around multiples of 8 exercise the 8x8 register-block path and its edges, for 4-byte and other widths.
        Same("Transpose", [Attr.Ints("perm", [0, 2, 1])], 1, 21, Iota(3, 20, 17));
        Same("Transpose", [Attr.Ints("perm", [0, 2, 1])], 1, 21, Iota(2, 16, 24));
        Same("Transpose", [Attr.Ints("perm", [0, 2, 3, 1])], 1, 21, Iota(2, 19, 9, 7));
        Same("Transpose", [Attr.Ints("perm", [1, 0])], 1, 21, Iota(8, 8));
        Same("Transpose", [Attr.Ints("perm", [3, 1, 2, 0])], 1, 21, Iota(9, 2, 3, 11));
        var bytes = Tensor.FromArray(Enumerable.Range(0, 20 * 17).Select(i => (byte)i).ToArray(), 20, 17);
        Same("Transpose", null, 1, 21, bytes);
        var longs = Tensor.FromArray(Enumerable.Range(0, 20 * 17).Select(i => (long)i).ToArray(), 20, 17);
        Same("Transpose", null, 1, 21, longs);
    }

    [Fact]
    public void SliceRandomBoundsAndSteps()
    {
        var rng = new Random(2);
        for (int n = 0; n < 60; n++)
        {
            int rank = rng.Next(1, 4);
            var shape = RandomShape(rng, rank, 6);
            int k = rng.Next(1, rank + 1);
            var axes = Enumerable.Range(0, rank).OrderBy(_ => rng.Next()).Take(k).Select(a => (long)(rng.Next(2) == 0 ? a : a - rank)).ToArray();
            var starts = axes.Select(_ => (long)rng.Next(-8, 8)).ToArray();
            var ends = axes.Select(_ => rng.Next(5) == 0 ? (rng.Next(2) == 0 ? long.MaxValue : long.MinValue) : rng.Next(-8, 8)).ToArray();
            var steps = axes.Select(_ => (long)(rng.Next(2) == 0 ? rng.Next(1, 4) : -rng.Next(1, 4))).ToArray();
            Same("Slice", null, 1, 21, Iota(shape), L(starts, k), L(ends, k), L(axes, k), L(steps, k));
        }
    }

    [Fact]
    public void GatherRandomAxesAndIndices()
    {
        var rng = new Random(3);
        for (int n = 0; n < 30; n++)
        {
            int rank = rng.Next(1, 4);
            var shape = RandomShape(rng, rank);
            int axis = rng.Next(rank);
            var indexShape = RandomShape(rng, rng.Next(0, 3), 3);
            var idx = Enumerable.Range(0, (int)ShapeMath.Size(indexShape)).Select(_ => (long)rng.Next(-shape[axis], shape[axis])).ToArray();
            Same("Gather", [Attr.Int("axis", axis)], 1, 21, Iota(shape), L(idx, indexShape));
        }
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("reflect")]
    [InlineData("edge")]
    [InlineData("wrap")]
    public void PadRandomPads(string mode)
    {
        var rng = new Random(4);
        for (int n = 0; n < 25; n++)
        {
            int rank = rng.Next(1, 4);
            var shape = RandomShape(rng, rank, 5);
            // Reflect needs pads below the dim size in ONNX Runtime; crops keep at least one element.
            var pads = new long[2 * rank];
            for (int d = 0; d < rank; d++)
            {
                int limit = mode == "reflect" ? shape[d] - 1 : shape[d];
                pads[d] = rng.Next(0, limit + 1);
                pads[rank + d] = rng.Next(0, limit + 1);
            }
            Same("Pad", [Attr.String("mode", mode)], 1, 21, Iota(shape), L(pads, 2 * rank), Tensor.Scalar(-1f));
        }
    }

    [Fact]
    public void ExpandAndTileRandom()
    {
        var rng = new Random(5);
        for (int n = 0; n < 25; n++)
        {
            int rank = rng.Next(1, 4);
            var shape = RandomShape(rng, rank).Select(d => rng.Next(2) == 0 ? 1 : d).ToArray();
            var target = shape.Select(d => d == 1 ? (long)rng.Next(1, 4) : rng.Next(2) == 0 ? 1 : d).ToList();
            if (rng.Next(2) == 0) target.Insert(0, rng.Next(1, 3));
            Same("Expand", null, 1, 21, Iota(shape), L(target.ToArray(), target.Count));
            var reps = shape.Select(_ => (long)rng.Next(0, 3)).ToArray();
            Same("Tile", null, 1, 21, Iota(shape), L(reps, rank));
        }
    }

    [Fact]
    public void TileLargerRepeats()
    {
        Same("Tile", null, 1, 21, Iota(2, 3, 4), L([3, 1, 2], 3));
        Same("Tile", null, 1, 21, Iota(1, 5), L([4, 3], 2));
        Same("Tile", null, 1, 21, Iota(3, 1, 2, 2), L([1, 5, 1, 3], 4));
    }

    [Fact]
    public void GatherNDAndScatterNDRandom()
    {
        var rng = new Random(6);
        for (int n = 0; n < 25; n++)
        {
            int rank = rng.Next(2, 4);
            var shape = RandomShape(rng, rank);
            int b = rng.Next(0, 2), k = rng.Next(1, rank - b + 1), tuples = rng.Next(1, 4);
            var indexShape = shape.Take(b).Append(tuples).Append(k).ToArray();
            var idx = new long[ShapeMath.Size(indexShape)];
            for (int i = 0; i < idx.Length; i++) idx[i] = rng.Next(-shape[b + i % k], shape[b + i % k]);
            Same("GatherND", [Attr.Int("batch_dims", b)], 1, 21, Iota(shape), L(idx, indexShape));
        }
        for (int n = 0; n < 25; n++)
        {
            int rank = rng.Next(1, 4);
            var shape = RandomShape(rng, rank);
            int k = rng.Next(1, rank + 1), tuples = rng.Next(1, 4);
            var idx = new long[tuples * k];
            for (int i = 0; i < idx.Length; i++) idx[i] = rng.Next(0, shape[i % k]);
            var updShape = new[] { tuples }.Concat(shape.Skip(k)).ToArray();
            Same("ScatterND", [Attr.String("reduction", "add")], 1, 21, Iota(shape), L(idx, tuples, k), Iota(updShape));
        }
    }

    [Fact]
    public void UniqueRandomWithAndWithoutAxis()
    {
        var rng = new Random(7);
        for (int n = 0; n < 20; n++)
        {
            var shape = RandomShape(rng, 2, 5);
            var data = Enumerable.Range(0, shape[0] * shape[1]).Select(_ => (float)rng.Next(0, 3)).ToArray();
            var attrs = new List<Attr> { Attr.Int("sorted", rng.Next(2)) };
            if (rng.Next(2) == 0) attrs.Add(Attr.Int("axis", rng.Next(-2, 2)));
            Same("Unique", attrs, 4, 21, F(data, shape));
        }
    }

    [Fact]
    public void DepthToSpaceSpaceToDepthAndTrilu()
    {
        Same("DepthToSpace", [Attr.Int("blocksize", 2), Attr.String("mode", "CRD")], 1, 21, Iota(2, 8, 3, 2));
        Same("DepthToSpace", [Attr.Int("blocksize", 2), Attr.String("mode", "DCR")], 1, 21, Iota(2, 8, 3, 2));
        Same("SpaceToDepth", [Attr.Int("blocksize", 3)], 1, 21, Iota(1, 2, 6, 3));
        for (long k = -4; k <= 4; k++)
        {
            Same("Trilu", [Attr.Int("upper", 0)], 1, 21, Iota(2, 3, 5), Tensor.Scalar(k));
            Same("Trilu", null, 1, 21, Iota(2, 5, 3), Tensor.Scalar(k));
        }
    }

    [Fact]
    public void Col2ImWithStridesPadsDilations()
    {
        Same("Col2Im", [Attr.Ints("strides", [2, 1]), Attr.Ints("pads", [1, 0, 1, 1]), Attr.Ints("dilations", [1, 2])], 1, 21,
            Iota(2, 2 * 4, 12), L([5, 5], 2), L([2, 2], 2));
    }

    [Fact]
    public void GatherElementsAndScatterElementsRandom()
    {
        var rng = new Random(8);
        string[] reductions = ["none", "add", "mul", "max", "min"];
        for (int n = 0; n < 30; n++)
        {
            int rank = rng.Next(1, 4);
            var shape = RandomShape(rng, rank);
            int axis = rng.Next(rank);
            var indexShape = shape.Select((d, k) => k == axis ? rng.Next(1, 5) : rng.Next(1, d + 1)).ToArray();
            var idx = Enumerable.Range(0, (int)ShapeMath.Size(indexShape)).Select(_ => (long)rng.Next(-shape[axis], shape[axis])).ToArray();
            Same("GatherElements", [Attr.Int("axis", axis - (rng.Next(2) == 0 ? rank : 0))], 1, 21, Iota(shape), L(idx, indexShape));
            var reduction = reductions[rng.Next(reductions.Length)];
            if (reduction == "none") idx = DistinctAlongAxis(idx, indexShape, axis, shape[axis], rng);
            Same("ScatterElements", [Attr.Int("axis", axis), Attr.String("reduction", reduction)], 1, 18, Iota(shape), L(idx, indexShape), Iota(indexShape));
        }
    }

    /// <summary>reduction=none with duplicate indices has no defined winner; give each line distinct indices.</summary>
    private static long[] DistinctAlongAxis(long[] idx, int[] indexShape, int axis, int dim, Random rng)
    {
        var strides = ShapeMath.Strides(indexShape);
        var r = (long[])idx.Clone();
        for (int i = 0; i < r.Length; i++)
        {
            int pos = i / strides[axis] % indexShape[axis];
            r[i] = pos < dim ? pos : 0;
        }
        // Only lines no longer than the dim are unambiguous; shorter index dims keep the identity mapping.
        return indexShape[axis] <= dim ? r : Enumerable.Repeat(0L, r.Length).ToArray();
    }

    [Fact]
    public void SplitConcatRandom()
    {
        var rng = new Random(9);
        for (int n = 0; n < 20; n++)
        {
            int rank = rng.Next(1, 4);
            var shape = RandomShape(rng, rank, 6);
            int axis = rng.Next(rank), parts = rng.Next(1, 4);
            int chunk = (shape[axis] + parts - 1) / parts;
            if (shape[axis] - chunk * (parts - 1) > 0)
                Same("Split", [Attr.Int("axis", axis), Attr.Int("num_outputs", parts)], parts, 18, Iota(shape));
            var other = (int[])shape.Clone();
            other[axis] = rng.Next(0, 3);
            Same("Concat", [Attr.Int("axis", axis - rank)], 1, 21, Iota(shape), Iota(other), Iota(shape));
        }
    }

    [Fact]
    public void OneHotCompressNonZeroReverseSequence()
    {
        for (long axis = -3; axis <= 2; axis++)
            Same("OneHot", [Attr.Int("axis", axis)], 1, 11, L([0, -1, 3, 7, 2, -4], 2, 3), Tensor.Scalar(4L), F([2, 5], 2));
        var cond = Tensor.FromArray(new[] { true, false, true }, 3);
        Same("Compress", [Attr.Int("axis", 1)], 1, 11, Iota(2, 4, 2), cond);
        Same("Compress", null, 1, 11, Iota(2, 4, 2), cond);
        Same("NonZero", null, 1, 13, F([0, 1, 0, 2, 3, 0, 0, 0, 4, 0, 5, 6], 2, 3, 2));
        Same("ReverseSequence", [Attr.Int("batch_axis", 1), Attr.Int("time_axis", 0)], 1, 10, Iota(4, 3, 2), L([4, 0, 2], 3));
    }

    [Fact]
    public void NegativePadsCrop()
    {
        Same("Pad", null, 1, 21, Iota(3, 4), L([-1, 2, 1, -2], 4), Tensor.Scalar(0f));
        Same("Pad", [Attr.String("mode", "edge")], 1, 21, Iota(3, 4), L([0, -2, 2, 1], 4));
    }

    [Fact]
    public void CenterCropPadEyeLikeRange()
    {
        Same("CenterCropPad", null, 1, 18, Iota(5, 4, 3), L([2, 7, 3], 3));
        Same("CenterCropPad", [Attr.Ints("axes", [-1, 0])], 1, 18, Iota(5, 4, 3), L([6, 1], 2));
        for (long k = -3; k <= 3; k++) Same("EyeLike", [Attr.Int("k", k)], 1, 21, Iota(3, 4));
        Same("Range", null, 1, 21, Tensor.Scalar(0.1f), Tensor.Scalar(7.3f), Tensor.Scalar(0.3f));
        Same("Range", null, 1, 21, Tensor.Scalar(10L), Tensor.Scalar(-7L), Tensor.Scalar(-3L));
    }

    [Fact]
    public void EmptyTensorsEverywhere()
    {
        var e = Iota(2, 0, 3);
        Same("Transpose", [Attr.Ints("perm", [2, 0, 1])], 1, 21, e);
        Same("Slice", null, 1, 21, e, L([-1], 1), L([long.MinValue], 1), L([1], 1), L([-1], 1));
        Same("Slice", null, 1, 21, e, L([0], 1), L([5], 1), L([2], 1), L([1], 1));
        Same("Gather", [Attr.Int("axis", 2)], 1, 21, e, L([0, 2, -1], 3));
        Same("Gather", null, 1, 21, Iota(3, 2), L([], 0));
        Same("Concat", [Attr.Int("axis", 1)], 1, 21, e, Iota(2, 0, 3));
        Same("Expand", null, 1, 21, Iota(3, 1), L([0, 3, 4], 3));
        Same("Tile", null, 1, 21, Iota(2, 3), L([0, 2], 2));
        Same("Pad", null, 1, 21, e, L([0, 1, 0, 0, 1, 0], 6), Tensor.Scalar(5f));
        Same("Split", [Attr.Int("axis", 1)], 2, 13, e);
        Same("Unique", null, 4, 21, F([], 0));
        Same("NonZero", null, 1, 13, e);
        Same("GatherElements", [Attr.Int("axis", 1)], 1, 21, e, L([], 2, 0, 3));
        Same("ScatterND", null, 1, 21, Iota(3, 2), L([], 0, 1), F([], 0, 2));
        Same("OneHot", null, 1, 11, L([], 0, 2), Tensor.Scalar(3L), F([0, 1], 2));
        Same("Trilu", null, 1, 21, Iota(0, 4));
        Same("DepthToSpace", [Attr.Int("blocksize", 2)], 1, 21, Iota(0, 4, 2, 2));
        Same("Compress", [Attr.Int("axis", 0)], 1, 11, Iota(2, 3), Tensor.FromArray(new[] { false, false }, 2));
        Same("Range", null, 1, 21, Tensor.Scalar(5L), Tensor.Scalar(1L), Tensor.Scalar(1L));
        Same("ReverseSequence", [Attr.Int("batch_axis", 1), Attr.Int("time_axis", 0)], 1, 10, Iota(3, 0, 2), L([], 0));
    }

    [Fact]
    public void ScalarsEverywhere()
    {
        var s = Tensor.Scalar(7f);
        Same("Transpose", null, 1, 21, s);
        Same("Reshape", null, 1, 21, s, L([1, 1], 2));
        Same("Unsqueeze", null, 1, 21, s, L([0, -1], 2));
        Same("Expand", null, 1, 21, s, L([2, 3], 2));
        Same("Tile", null, 1, 21, s, L([], 0));
        Same("Shape", null, 1, 21, s);
        Same("Size", null, 1, 21, s);
        Same("NonZero", null, 1, 13, s);
        Same("Slice", null, 1, 21, Iota(4), L([-1], 1), L([long.MaxValue], 1));
    }
}
