using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>RotaryEmbedding with 90° and 0° rotations, so every output is a hand-checkable permutation.</summary>
public sealed class RotaryEmbeddingTests
{
    private static Tensor Rotary(Attr[] attrs, params Tensor?[] inputs) => OpTester.Run("RotaryEmbedding", attrs, 1, 23, "", inputs)[0];

    // Position 0 rotates by (90°, 0°), position 1 by (0°, 0°).
    private static readonly Tensor Cos = F([0, 1, 1, 1], 2, 2);
    private static readonly Tensor Sin = F([1, 0, 0, 0], 2, 2);

    [Fact]
    public void HalvesArePairedByDefault()
    {
        // Pairs (x0, x2) and (x1, x3): (1, 3) turns 90° to (-3, 1); (2, 4) stays.
        var x = F([1, 2, 3, 4], 1, 1, 1, 4);
        AssertClose([-3, 2, 1, 4], Rotary([], x, Cos, Sin, L([0], 1, 1)));
    }

    [Fact]
    public void InterleavedPairsNeighbours()
    {
        var x = F([1, 2, 3, 4], 1, 1, 1, 4);
        AssertClose([-2, 1, 3, 4], Rotary([Attr.Int("interleaved", 1)], x, Cos, Sin, L([0], 1, 1)));
    }

    [Fact]
    public void PositionIdsSelectCacheRows()
    {
        var x = F([1, 2, 3, 4], 1, 1, 1, 4);
        AssertClose([1, 2, 3, 4], Rotary([], x, Cos, Sin, L([1], 1, 1)));
    }

    [Fact]
    public void PartialRotationLeavesTheTailAlone()
    {
        // rotary_embedding_dim 2: only (x0, x1) turns (by the first cache column); the wider cache is sliced.
        var x = F([1, 2, 3, 4], 1, 1, 1, 4);
        AssertClose([-2, 1, 3, 4], Rotary([Attr.Int("rotary_embedding_dim", 2)], x, Cos, Sin, L([0], 1, 1)));
    }

    [Fact]
    public void ThreeDInputIsSplitIntoHeads()
    {
        // Two heads of size 2 without position_ids: caches are (batch, seq, size/2).
        var x = F([1, 2, 3, 4], 1, 1, 4);
        var r = Rotary([Attr.Int("num_heads", 2)], x, F([0], 1, 1, 1), F([1], 1, 1, 1));
        AssertClose([-2, 1, -4, 3], r);
        Assert.Equal([1, 1, 4], r.Shape.ToArray());
    }

    [Fact]
    public void FourDLayoutIsHeadsThenSequence()
    {
        // (batch 1, heads 2, seq 2, size 2): sequence position picks the cache row, for every head.
        var x = F([1, 2, 3, 4, 5, 6, 7, 8], 1, 2, 2, 2);
        var r = Rotary([], x, F([0, 1], 2, 1), F([1, 0], 2, 1), L([0, 1], 1, 2));
        AssertClose([-2, 1, 3, 4, -6, 5, 7, 8], r);
    }

    [Fact]
    public void PositionOutsideTheCacheIsAnError()
    {
        var x = F([1, 2, 3, 4], 1, 1, 1, 4);
        Assert.ThrowsAny<LoomException>(() => Rotary([], x, Cos, Sin, L([2], 1, 1)));
    }
}
