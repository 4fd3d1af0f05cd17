using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class EinsumTests
{
    private static Tensor[] E(string eq, params Tensor[] inputs) => Run("Einsum", [Attr.String("equation", eq)], inputs);

    private static readonly Tensor Square = F([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3);

    [Fact]
    public void TraceDiagonalAndImplicitTranspose()
    {
        AssertClose([15], E("ii", Square)[0]);
        AssertClose([1, 5, 9], E("ii->i", Square)[0]);
        // Implicit output sorts the letters: "ba" produces "ab", the transpose.
        AssertClose([1, 4, 7, 2, 5, 8, 3, 6, 9], E("ba", Square)[0]);
        AssertClose([12, 15, 18], E("ij->j", Square)[0]);
    }

    [Fact]
    public void ProductsAndChains()
    {
        var a = F([1, 2, 3, 4, 5, 6], 2, 3);
        var b = F([1, 0, 0, 1, 1, 1], 3, 2);
        AssertClose([4, 5, 10, 11], E("ij,jk", a, b)[0]);
        AssertClose([1, 2, 2, 4], E("i,j->ij", F([1, 2], 2), F([1, 2], 2))[0]);
        // (a·b)·c with c = [[1],[1]].
        AssertClose([9, 21], E("ij,jk,kl->il", a, b, F([1, 1], 2, 1))[0]);
        AssertClose([91], E("ij,ij->", a, a)[0]);
    }

    [Fact]
    public void EllipsisBroadcastsBatches()
    {
        var a = F([1, 2, 3, 4], 2, 1, 1, 2);
        var b = F([1, 1, 2, 2, 3, 3], 3, 2, 1);
        var y = E("...ij,...jk->...ik", a, b)[0];
        Assert.Equal([2, 3, 1, 1], y.Shape.ToArray());
        AssertClose([3, 6, 9, 7, 14, 21], y);
        Assert.Equal([2, 3, 1, 1], ConvInference.Output("Einsum", [Attr.String("equation", "...ij,...jk->...ik")],
            ConvInference.T(2, 1, 1, 2), ConvInference.T(3, 2, 1)).Dims.Select(d => (int)d.Value!.Value).ToArray());
    }

    [Fact]
    public void IntegerEinsum()
    {
        var y = E("ij,jk->ik", Tensor.FromArray(new long[] { 1, 2, 3, 4 }, 2, 2), Tensor.FromArray(new long[] { 5, 6, 7, 8 }, 2, 2))[0];
        Assert.Equal([19L, 22, 43, 50], y.ToArray<long>());
    }
}
