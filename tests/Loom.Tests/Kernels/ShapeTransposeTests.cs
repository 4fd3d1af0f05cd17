using Loom.Tests.Support;
using static Loom.Tests.Support.OpTester;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

public sealed class ShapeTransposeTests
{
    [Fact]
    public void TransposeDefaultReversesAxes()
    {
        var y = OpTester.Run("Transpose", null, F([0, 1, 2, 3, 4, 5], 2, 3))[0];
        Assert.Equal([3, 2], y.Shape.ToArray());
        Assert.Equal([0f, 3, 1, 4, 2, 5], y.ToArray<float>());
    }

    [Fact]
    public void Transpose3DPermutation()
    {
        // x[i,j,k] = 100i + 10j + k, shape [2,3,2]; perm [2,0,1] gives y[k,i,j].
        var data = new float[12];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 2; k++) data[i * 6 + j * 2 + k] = 100 * i + 10 * j + k;
        var y = OpTester.Run("Transpose", [Attr.Ints("perm", [2, 0, 1])], F(data, 2, 3, 2))[0];
        Assert.Equal([2, 2, 3], y.Shape.ToArray());
        Assert.Equal([0f, 10, 20, 100, 110, 120, 1, 11, 21, 101, 111, 121], y.ToArray<float>());
    }

    [Fact]
    public void TransposeStringsAndFloat16()
    {
        var s = OpTester.Run("Transpose", null, Tensor.FromArray(new[] { "a", "b", "c", "d" }, 2, 2))[0];
        Assert.Equal(["a", "c", "b", "d"], s.ToArray<string>());
        var h = OpTester.Run("Transpose", null, Tensor.FromArray(new[] { (Half)1, (Half)2, (Half)3, (Half)4 }, 2, 2))[0];
        Assert.Equal([(Half)1, (Half)3, (Half)2, (Half)4], h.ToArray<Half>());
    }

    [Fact]
    public void TransposeRejectsBadPerm() =>
        Assert.ThrowsAny<LoomException>(() => OpTester.Run("Transpose", [Attr.Ints("perm", [0, 0])], F([1, 2, 3, 4], 2, 2)));

    [Fact]
    public void DepthToSpaceDcrAndCrd()
    {
        // [1, 4, 1, 1] channels 0..3 with blocksize 2 -> [1,1,2,2].
        var x = F([0, 1, 2, 3], 1, 4, 1, 1);
        var dcr = OpTester.Run("DepthToSpace", [Attr.Int("blocksize", 2)], x)[0];
        Assert.Equal([1, 1, 2, 2], dcr.Shape.ToArray());
        Assert.Equal([0f, 1, 2, 3], dcr.ToArray<float>());
        // With 8 channels DCR and CRD differ: DCR reads channel (bh*2+bw)*2+c, CRD reads c*4+bh*2+bw.
        var x8 = F([0, 1, 2, 3, 4, 5, 6, 7], 1, 8, 1, 1);
        Assert.Equal([0f, 2, 4, 6, 1, 3, 5, 7], OpTester.Run("DepthToSpace", [Attr.Int("blocksize", 2)], x8)[0].ToArray<float>());
        Assert.Equal([0f, 1, 2, 3, 4, 5, 6, 7], OpTester.Run("DepthToSpace", [Attr.Int("blocksize", 2), Attr.String("mode", "CRD")], x8)[0].ToArray<float>());
    }

    [Fact]
    public void SpaceToDepthInvertsDepthToSpace()
    {
        var data = Enumerable.Range(0, 32).Select(i => (float)i).ToArray();
        var s2d = OpTester.Run("SpaceToDepth", [Attr.Int("blocksize", 2)], F(data, 1, 2, 4, 4))[0];
        Assert.Equal([1, 8, 2, 2], s2d.Shape.ToArray());
        var back = OpTester.Run("DepthToSpace", [Attr.Int("blocksize", 2)], s2d)[0];
        Assert.Equal(data, back.ToArray<float>());
    }
}
