using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>Attention on tiny inputs whose results are worked out by hand.</summary>
public sealed class AttentionTests
{
    private static Tensor[] Attention(Attr[] attrs, int outputs, params Tensor?[] inputs) =>
        OpTester.Run("Attention", attrs, outputs, 23, "", inputs);

    [Fact]
    public void SingleHeadCausalTwoByTwo()
    {
        // Q = K = I, V = [[1,2],[3,4]], scale 1/√2. Query 0 sees key 0 only; query 1 weighs keys by
        // softmax(0, 1/√2) = (0.33023845, 0.66976155).
        var q = F([1, 0, 0, 1], 1, 1, 2, 2);
        var v = F([1, 2, 3, 4], 1, 1, 2, 2);
        var r = Attention([Attr.Int("is_causal", 1)], 4, q, q, v);
        AssertClose([1, 2, 2.3395231f, 3.3395231f], r[0]);
        Assert.Equal([1, 1, 2, 2], r[0].Shape.ToArray());
        AssertClose([0.70710678f, 0, 0, 0.70710678f], r[3]); // mode 0: scaled Q·Kᵀ before the mask
    }

    [Fact]
    public void QkOutputAfterBiasAndAfterSoftmax()
    {
        var q = F([1, 0, 0, 1], 1, 1, 2, 2);
        var v = F([1, 2, 3, 4], 1, 1, 2, 2);
        var biased = Attention([Attr.Int("is_causal", 1), Attr.Int("qk_matmul_output_mode", 2)], 4, q, q, v)[3];
        var b = biased.ToArray<float>();
        Assert.Equal(float.NegativeInfinity, b[1]);
        b[1] = 0;
        AssertClose([0.70710678f, 0, 0, 0.70710678f], F(b, 4));
        var probs = Attention([Attr.Int("is_causal", 1), Attr.Int("qk_matmul_output_mode", 3)], 4, q, q, v)[3];
        AssertClose([1, 0, 0.33023845f, 0.66976155f], probs);
    }

    [Fact]
    public void SoftcapIsAppliedBeforeTheMask()
    {
        // One query, one key: raw score 2 → softcap 1·tanh(2/1) = 0.96402758, then + mask −1.
        var q = F([2], 1, 1, 1, 1);
        var k = F([1], 1, 1, 1, 1);
        var mask = F([-1], 1, 1);
        Attr[] common = [Attr.Float("scale", 1), Attr.Float("softcap", 1)];
        AssertClose([0.96402758f], Attention([.. common, Attr.Int("qk_matmul_output_mode", 1)], 4, q, k, k, mask)[3]);
        AssertClose([-0.03597242f], Attention([.. common, Attr.Int("qk_matmul_output_mode", 2)], 4, q, k, k, mask)[3]);
    }

    [Fact]
    public void GroupedQueryHeadsShareKvHeadsInBlocks()
    {
        // Four query heads over two kv heads: heads 0,1 read kv head 0 and heads 2,3 read kv head 1.
        var q = F([1, 1, 1, 1], 1, 4, 1, 1);
        var k = F([1, 1], 1, 2, 1, 1);
        var v = F([10, 20], 1, 2, 1, 1);
        AssertClose([10, 10, 20, 20], Attention([], 1, q, k, v)[0]);
    }

    [Fact]
    public void ThreeDInputsAreSplitIntoHeadsAlongTheHiddenDim()
    {
        // (batch 1, seq 2, 2 heads × size 1). Q = 0 gives uniform weights, so each head averages its own
        // column of V over the two keys: head 0 (1, 3) → 2, head 1 (10, 30) → 20.
        var q = F([0, 0, 0, 0], 1, 2, 2);
        var k = F([1, 2, 3, 4], 1, 2, 2);
        var v = F([1, 10, 3, 30], 1, 2, 2);
        var r = Attention([Attr.Int("q_num_heads", 2), Attr.Int("kv_num_heads", 2)], 3, q, k, v);
        AssertClose([2, 20, 2, 20], r[0]);
        Assert.Equal([1, 2, 2], r[0].Shape.ToArray());
        AssertClose([1, 3, 2, 4], r[1]); // present_key is (batch, heads, seq, size)
        Assert.Equal([1, 2, 2, 1], r[1].Shape.ToArray());
    }

    [Fact]
    public void CausalMaskWithPastIsAlignedBottomRight()
    {
        // One past key + two new ones: query 0 (absolute position 1) sees keys 0-1, query 1 sees 0-2.
        // Q = 0 makes the weights uniform over the visible keys.
        var q = F([0, 0], 1, 1, 2, 1);
        var k = F([1, 1], 1, 1, 2, 1);
        var v = F([3, 6], 1, 1, 2, 1);
        var pastK = F([1], 1, 1, 1, 1);
        var pastV = F([0], 1, 1, 1, 1);
        var r = Attention([Attr.Int("is_causal", 1)], 3, q, k, v, null, pastK, pastV);
        AssertClose([1.5f, 3], r[0]);
        AssertClose([0, 3, 6], r[2]);
        Assert.Equal([1, 1, 3, 1], r[2].Shape.ToArray());
    }

    [Fact]
    public void FullyMaskedRowGivesZeros()
    {
        var q = F([0, 0], 1, 1, 2, 1);
        var v = F([5, 7], 1, 1, 2, 1);
        var mask = Tensor.FromArray(new[] { true, false, false, false }, 2, 2);
        var r = Attention([Attr.Int("qk_matmul_output_mode", 3)], 4, q, q, v, mask);
        AssertClose([5, 0], r[0]);
        AssertClose([1, 0, 0, 0], r[3]);
    }

    [Fact]
    public void ShortMaskIsPaddedWithMinusInfinity()
    {
        // A float mask covering only the first key: the second key is masked out.
        var q = F([0], 1, 1, 1, 1);
        var v = F([5, 7], 1, 1, 2, 1);
        AssertClose([5], Attention([], 1, q, F([0, 0], 1, 1, 2, 1), v, F([0], 1, 1))[0]);
    }

    [Fact]
    public void DoubleInputsComputeInDouble()
    {
        var q = Tensor.FromArray(new double[] { 1, 0, 0, 1 }, 1, 1, 2, 2);
        var v = Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 1, 1, 2, 2);
        var y = Attention([Attr.Int("is_causal", 1)], 1, q, q, v)[0];
        Assert.Equal(DataType.Double, y.DataType);
        Assert.Equal(2.3395230986533138, y.ToArray<double>()[2], 12);
    }

    [Fact]
    public void Float16InputsGiveFloat16Outputs()
    {
        var q = Tensor.FromArray(new Half[] { (Half)1, (Half)0, (Half)0, (Half)1 }, 1, 1, 2, 2);
        var v = Tensor.FromArray(new Half[] { (Half)1, (Half)2, (Half)3, (Half)4 }, 1, 1, 2, 2);
        var y = Attention([Attr.Int("is_causal", 1)], 1, q, q, v)[0];
        Assert.Equal(DataType.Float16, y.DataType);
        Assert.Equal(2.3395, (double)y.ToArray<Half>()[2], 2);
    }

    [Fact]
    public void MismatchedHeadSizesAreRejected()
    {
        var q = F(new float[8], 1, 1, 2, 4);
        var k = F(new float[6], 1, 1, 2, 3);
        var e = Assert.ThrowsAny<LoomException>(() => Attention([], 1, q, k, k));
        Assert.Contains("head size", e.Message);
    }
}
