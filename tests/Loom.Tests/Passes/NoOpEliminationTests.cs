using Loom.IR;
using Loom.Passes;
using static Loom.Tests.Passes.PassTestModels;

namespace Loom.Tests.Passes;

public sealed class NoOpEliminationTests
{
    [Fact]
    public void ReadersOfAnIdentityReadItsInput()
    {
        var g = new Graph("main", [V("x", "float32[2]")], [V("y")],
            [N("Neg", ["x"], ["a"]), N("Identity", ["a"], ["b"]), N("Identity", ["b"], ["c"]), N("Abs", ["c"], ["y"])]);
        AssertText("""
            graph main(x: float32[2]) -> (y: ?) {
              a = Neg(x)
              y = Abs(a)
              return y
            }
            """, NoOpElimination.Run(Inferred(g)));
    }

    [Fact]
    public void AGraphOutputRenamesTheProducerOrKeepsItsNode()
    {
        // y: the producer of its input takes the name. z: its input is a graph input, so the Identity stays.
        // w: its input is now the graph output y, which keeps its name, so the Identity stays too.
        var g = new Graph("main", [V("x", "float32[2]")], [V("y"), V("z"), V("w")],
            [N("Neg", ["x"], ["a"]), N("Identity", ["a"], ["y"]), N("Identity", ["x"], ["z"]), N("Identity", ["a"], ["w"])]);
        AssertText("""
            graph main(x: float32[2]) -> (y: ?, z: ?, w: ?) {
              y = Neg(x)
              z = Identity(x)
              w = Identity(y)
              return y, z, w
            }
            """, NoOpElimination.Run(Inferred(g)));
    }

    [Fact]
    public void ReturnsTheSameModelWhenNothingIsANoOp()
    {
        var g = new Graph("main", [V("x", "float32[2,3]")], [V("y")],
        [
            N("Cast", ["x"], ["h"], IR.Attribute.Int("to", (long)DataType.Float16)),
            N("Transpose", ["h"], ["t"], IR.Attribute.Ints("perm", [1, 0])),
            N("Dropout", ["t", "ratio", "training"], ["y"]),
        ], new Dictionary<string, Tensor> { ["ratio"] = Tensor.Scalar(0.5f), ["training"] = Tensor.Scalar(true) });
        var model = Inferred(g, opset: 13);
        Assert.Same(model, NoOpElimination.Run(model));
    }

    [Fact]
    public void RemovesInferenceDropoutSameTypeCastsAndIdentityTransposes()
    {
        var g = new Graph("main", [V("x", "float32[2,3]"), V("like", "float32[1]")], [V("y")],
        [
            N("Dropout", ["x"], ["d1"]),
            N("Dropout", ["d1", "ratio", "off"], ["d2", "unread_mask"]),
            N("Cast", ["d2"], ["c1"], IR.Attribute.Int("to", (long)DataType.Float)),
            N("CastLike", ["c1", "like"], ["c2"]),
            N("Transpose", ["c2"], ["t"], IR.Attribute.Ints("perm", [0, 1])),
            N("Relu", ["t"], ["y"]),
        ], new Dictionary<string, Tensor> { ["ratio"] = Tensor.Scalar(0.5f), ["off"] = Tensor.Scalar(false) });
        AssertText("""
            graph main(x: float32[2,3], like: float32[1]) -> (y: ?) {
              init off = bool[] {false}
              init ratio = float32[] {0.5}
              y = Relu(x)
              return y
            }
            """, NoOpElimination.Run(Inferred(g, opset: 13)));
    }

    [Fact]
    public void ADropoutWhoseMaskIsReadStays()
    {
        var model = Inferred(new Graph("main", [V("x", "float32[2]")], [V("y"), V("mask")], [N("Dropout", ["x"], ["y", "mask"])]), opset: 13);
        Assert.Same(model, NoOpElimination.Run(model));
    }

    [Fact]
    public void ReshapesThatKeepTheShapeGo()
    {
        // Types as shape inference gives them: the Reshape keeps [batch,3]; the Flatten makes [batch,3] of [batch,3,1].
        var types = new Dictionary<string, IrType> { ["r"] = T("float32[batch,3]"), ["f"] = T("float32[batch,3]"), ["e"] = T("float32[batch,3,1]") };
        var g = new Graph("main", [V("x", "float32[batch,3]")], [V("y")],
        [
            N("Reshape", ["x", "shape"], ["r"]),
            N("Unsqueeze", ["r", "axes"], ["e"]),
            N("Flatten", ["e"], ["f"]),
            N("Relu", ["f"], ["y"]),
        ], new Dictionary<string, Tensor> { ["shape"] = Tensor.FromArray(new long[] { 0, 3 }, 2), ["axes"] = Tensor.FromArray(new long[] { 2 }, 1) }, types);
        AssertText("""
            graph main(x: float32[batch,3]) -> (y: ?) {
              init axes = int64[1] {2}
              init shape = int64[2] {0, 3}
              e = Unsqueeze(x, axes)
              f = Flatten(e)
              y = Relu(f)
              return y
            }
            """, NoOpElimination.Run(M(g)));
    }
}
