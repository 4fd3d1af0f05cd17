using Loom.Import.Onnx;
using Loom.IR;
using Loom.Runtime.Memory;

namespace Loom.Tests.Runtime;

/// <summary>Pooled float32 tensors start on a 64-byte line, so kernels that split outputs on line boundaries write no line from two cores.</summary>
public sealed unsafe class BufferAlignmentTests
{
    private static bool OnLine(float[] a, int offset)
    {
        fixed (float* p = a) return ((nint)(p + offset) & 63) == 0;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(196)]
    [InlineData(100_003)]
    public void RentedFloatArraysHoldTheLengthFromAWholeLine(int length)
    {
        var pool = new BufferPool();
        for (int round = 0; round < 3; round++)
        {
            var a = (float[])pool.Rent(typeof(float), length, sizeof(float));
            int offset = pool.OffsetOf(a);
            Assert.True(OnLine(a, offset), $"offset {offset} of a {a.Length}-element array is not on a line");
            Assert.True(offset + length <= a.Length);
            pool.Return(a);
        }
    }

    [Fact]
    public void OtherElementTypesStartAtZero()
    {
        var pool = new BufferPool();
        var a = pool.Rent(typeof(long), 100, sizeof(long));
        Assert.Equal(0, pool.OffsetOf(a));
    }

    [Fact]
    public void AnArrayGivenUpAndAdoptedAgainKeepsItsLine()
    {
        var pool = new BufferPool();
        var a = (float[])pool.Rent(typeof(float), 1000, sizeof(float));
        int offset = pool.OffsetOf(a);
        pool.Release(a);
        Assert.Equal(0, pool.OffsetOf(a)); // not the pool's any more
        pool.Adopt(a, sizeof(float));
        Assert.Equal(offset, pool.OffsetOf(a));
        // Reused for the largest request it fits: its capacity excludes the padding.
        Assert.Same(a, pool.Rent(typeof(float), a.Length - BufferPool.AlignPad, sizeof(float)));
    }

    [Fact]
    public void SessionOutputsAndConcatSlicesStartOnLinesAndKeepTheirValues()
    {
        // y = Concat(Relu(x), Neg(x)) along axis 1, with rows of 13 floats (a 13×13-like odd width): slices of the Concat's
        // buffer start where the Concat's tensor does, on a line.
        var shape = new Shape([1, 3, 13]);
        var g = new Graph("g", [new ValueInfo("x", new TensorType(DataType.Float, shape))], [new ValueInfo("y", null), new ValueInfo("r", null)],
            [new Node("Relu", ["x"], ["a"]), new Node("Neg", ["x"], ["b"]), new Node("Concat", ["a", "b"], ["y"], [Loom.IR.Attribute.Int("axis", 1)]),
             new Node("Sigmoid", ["x"], ["r"])],
            new Dictionary<string, Tensor>());
        using var session = LoomSession.Load(OnnxExporter.ToBytes(new Model(g, new Dictionary<string, int> { [""] = 17 })));
        var x = Enumerable.Range(0, 39).Select(i => i * 0.25f - 4).ToArray();
        for (int run = 0; run < 3; run++)
        {
            using var result = session.Run(("x", Tensor.FromArray(x, 1, 3, 13)));
            var y = result.Tensor("y");
            var r = result.Tensor("r");
            Assert.True(OnLine((float[])y.Buffer, y.Offset));
            Assert.True(OnLine((float[])r.Buffer, r.Offset));
            var expected = x.Select(v => Math.Max(v, 0f)).Concat(x.Select(v => -v)).ToArray();
            Assert.Equal(expected, y.ToArray<float>());
            Assert.Equal(x.Select(v => 1f / (1f + MathF.Exp(-v))).ToArray(), r.ToArray<float>(), (p, q) => Math.Abs(p - q) < 1e-6f);
        }
    }
}
