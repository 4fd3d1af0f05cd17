using Loom.Import.Onnx;
using Loom.IR;

namespace Loom.Tests.Runtime;

/// <summary>Run checks its inputs against the model before doing anything.</summary>
public sealed class SessionInputTests
{
    /// <summary>a: float32[batch,3] → Identity → y; b: float32[batch] → Identity → z.</summary>
    private static LoomSession Session()
    {
        var batch = Dim.Symbol("batch");
        var g = new Graph("g",
            [new ValueInfo("a", new TensorType(DataType.Float, new Shape([batch, Dim.Of(3)]))),
             new ValueInfo("b", new TensorType(DataType.Float, new Shape([batch])))],
            [new ValueInfo("y", null), new ValueInfo("z", null)],
            [new Node("Identity", ["a"], ["y"]), new Node("Identity", ["b"], ["z"])]);
        return LoomSession.Load(OnnxExporter.ToBytes(new Model(g, new Dictionary<string, int> { [""] = 17 })));
    }

    private static Tensor F(params int[] shape) => Tensor.Zeros(DataType.Float, shape);

    [Fact]
    public void ConsistentInputsRun()
    {
        using var s = Session();
        using var r = s.Run(("a", F(2, 3)), ("b", F(2)));
        Assert.Equal([2, 3], r.Tensor("y").Shape.ToArray());
        Assert.Equal("float32[batch,3]", s.Inputs[0].Type!.ToString());
        Assert.Equal(["batch"], s.Inputs[0].Symbols);
    }

    [Fact]
    public void UnknownInputNameIsRejected()
    {
        using var s = Session();
        var e = Assert.Throws<InputException>(() => s.Run(("a", F(2, 3)), ("b", F(2)), ("c", F(1))));
        Assert.Contains("no input named 'c'", e.Message);
    }

    [Fact]
    public void MissingInputIsRejected()
    {
        using var s = Session();
        var e = Assert.Throws<InputException>(() => s.Run(("a", F(2, 3))));
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void WrongDtypeIsRejected()
    {
        using var s = Session();
        var e = Assert.Throws<InputException>(() => s.Run(("a", Tensor.Zeros(DataType.Int64, [2, 3])), ("b", F(2))));
        Assert.Contains("must be float32", e.Message);
    }

    [Fact]
    public void WrongRankIsRejected()
    {
        using var s = Session();
        var e = Assert.Throws<InputException>(() => s.Run(("a", F(2, 3, 1)), ("b", F(2))));
        Assert.Contains("rank 3", e.Message);
    }

    [Fact]
    public void WrongFixedDimIsRejected()
    {
        using var s = Session();
        var e = Assert.Throws<InputException>(() => s.Run(("a", F(2, 4)), ("b", F(2))));
        Assert.Contains("dim 1 is 4", e.Message);
    }

    [Fact]
    public void RuntimeDimContradictingASymbolIsRejected()
    {
        using var s = Session();
        var e = Assert.Throws<InputException>(() => s.Run(("a", F(2, 3)), ("b", F(5))));
        Assert.Contains("'batch' is already 2", e.Message);
    }

    [Fact]
    public void ConcurrentRunsGiveIdenticalResults()
    {
        using var s = Session();
        Parallel.For(0, 64, i =>
        {
            int batch = 1 + i % 7;
            var a = Tensor.FromArray(Enumerable.Range(0, batch * 3).Select(v => (float)(v + i)).ToArray(), batch, 3);
            using var r = s.Run(("a", a), ("b", F(batch)));
            Assert.Equal(a.ToArray<float>(), r.Tensor("y").ToArray<float>());
        });
    }
}
