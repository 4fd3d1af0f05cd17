using Loom.Tests.Support;
using A = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>TopK: largest/smallest, ties by lower index, k as attribute (opset 1) and input, the heap path.</summary>
public sealed class TopKTests
{
    private static Tensor[] Run(Tensor x, long k, long axis = -1, int largest = 1, int opset = 21) =>
        OpTester.Run("TopK", [A.Int("axis", axis), A.Int("largest", largest)], 2, opset, "", x, OpTester.L([k], 1));

    [Fact]
    public void TiesKeepIndexOrder()
    {
        var x = OpTester.F([1, 3, 3, 2, 3], 5);
        var r = Run(x, 3);
        OpTester.AssertClose([3, 3, 3], r[0]);
        Assert.Equal([1L, 2L, 4L], r[1].ToArray<long>());
        var s = Run(x, 2, largest: 0);
        OpTester.AssertClose([1, 2], s[0]);
        Assert.Equal([0L, 3L], s[1].ToArray<long>());
    }

    [Fact]
    public void AlongAnOuterAxis()
    {
        var x = OpTester.F([1, 6, 5, 2, 3, 4], 3, 2);
        var r = Run(x, 2, axis: 0);
        Assert.Equal([2, 2], r[0].Shape.ToArray());
        OpTester.AssertClose([5, 6, 3, 4], r[0]);
        Assert.Equal([1L, 0L, 2L, 2L], r[1].ToArray<long>());
    }

    [Fact]
    public void KAttributeAtOpset1()
    {
        var r = OpTester.Run("TopK", [A.Int("k", 1)], 2, 1, "", OpTester.F([1, 5, 2], 3));
        OpTester.AssertClose([5], r[0]);
        Assert.Equal([1L], r[1].ToArray<long>());
    }

    [Fact]
    public void ZeroKGivesEmptyOutputs()
    {
        var r = Run(OpTester.F([1, 2], 2), 0);
        Assert.Equal([0], r[0].Shape.ToArray());
        Assert.Equal([0], r[1].Shape.ToArray());
    }

    [Fact]
    public void SmallKOfALongRowMatchesAFullSort()
    {
        var rng = new Random(7);
        var data = Enumerable.Range(0, 1000).Select(_ => (long)rng.Next(50)).ToArray();
        var r = Run(Tensor.FromArray(data, 1000), 10);
        var expected = data.Select((v, i) => (v, i)).OrderByDescending(p => p.v).ThenBy(p => p.i).Take(10).ToArray();
        Assert.Equal(expected.Select(p => p.v), r[0].ToArray<long>());
        Assert.Equal(expected.Select(p => (long)p.i), r[1].ToArray<long>());
    }

    [Fact]
    public void KLargerThanTheAxisIsRejected()
    {
        Assert.ThrowsAny<LoomException>(() => Run(OpTester.F([1, 2], 2), 3));
    }
}
