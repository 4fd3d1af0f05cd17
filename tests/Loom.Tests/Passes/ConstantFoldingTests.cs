using Loom.IR;
using Loom.Passes;
using static Loom.Tests.Passes.PassTestModels;

namespace Loom.Tests.Passes;

public sealed class ConstantFoldingTests
{
    [Fact]
    public void FoldsConstantNodesAndWhatIsComputedFromThem()
    {
        var g = new Graph("main", [V("x", "float32[2]")], [V("y")],
        [
            Const("a", F(1, 2)),
            Const("b", F(3, 4)),
            N("Add", ["a", "b"], ["s"]),
            N("Neg", ["s"], ["n"]),
            N("Mul", ["x", "n"], ["y"]),
        ]);
        var folded = ConstantFolding.Run(Inferred(g));
        AssertText("""
            graph main(x: float32[2]) -> (y: ?) {
              init a = float32[2] {1, 2}
              init b = float32[2] {3, 4}
              init n = float32[2] {-4, -6}
              init s = float32[2] {4, 6}
              y = Mul(x, n)
              return y
            }
            """, folded);
    }

    [Fact]
    public void ReturnsTheSameModelWhenNothingIsConstant()
    {
        var model = Inferred(new Graph("main", [V("x", "float32[2]")], [V("y")], [N("Relu", ["x"], ["y"])]));
        Assert.Same(model, ConstantFolding.Run(model));
    }

    [Fact]
    public void ShapeAndSizeOfAFullyKnownShapeBecomeConstants()
    {
        var g = new Graph("main", [V("x", "float32[2,3,5]"), V("z", "float32[2]")], [V("y")],
        [
            N("Shape", ["x"], ["s"], IR.Attribute.Int("start", 1)),
            N("Size", ["x"], ["n"]),
            N("Cast", ["s"], ["sf"], IR.Attribute.Int("to", (long)DataType.Float)),
            N("Cast", ["n"], ["nf"], IR.Attribute.Int("to", (long)DataType.Float)),
            N("Mul", ["sf", "nf"], ["k"]),
            N("Mul", ["z", "k"], ["y"]),
        ]);
        var folded = ConstantFolding.Run(Inferred(g, opset: 17));
        AssertText("""
            graph main(x: float32[2,3,5], z: float32[2]) -> (y: ?) {
              init k = float32[2] {90, 150}
              init n = int64[] {30}
              init nf = float32[] {30}
              init s = int64[2] {3, 5}
              init sf = float32[2] {3, 5}
              y = Mul(z, k)
              return y
            }
            """, folded);
    }

    [Fact]
    public void ShapeWithASymbolicDimStays()
    {
        var model = Inferred(new Graph("main", [V("x", "float32[batch,3]")], [V("y")],
            [N("Shape", ["x"], ["s"]), N("Cast", ["s"], ["y"], IR.Attribute.Int("to", (long)DataType.Float))]));
        Assert.Same(model, ConstantFolding.Run(model));
    }

    [Fact]
    public void RandomOperatorsAreNeverFolded()
    {
        var g = new Graph("main", [V("x", "float32[2]")], [V("y")],
        [
            Const("c", F(1, 2)),
            N("RandomUniformLike", ["c"], ["r"]),
            N("RandomNormal", [], ["q"], IR.Attribute.Ints("shape", [2])),
            N("Dropout", ["c"], ["d"]),
            N("Sum", ["x", "r", "q", "d"], ["y"]),
        ]);
        AssertText("""
            graph main(x: float32[2]) -> (y: ?) {
              init c = float32[2] {1, 2}
              r = RandomUniformLike(c)
              q = RandomNormal() {shape=[2]}
              d = Dropout(c)
              y = Sum(x, r, q, d)
              return y
            }
            """, ConstantFolding.Run(Inferred(g)));
    }

    [Fact]
    public void OutputsLargerThanTheCapAndTheInputsStay()
    {
        var bytes = Tensor.FromArray(new sbyte[20], 20);
        var floats = Tensor.FromArray(new float[100], 100);
        var g = new Graph("main", [V("x", "float64[20]"), V("z", "float32[100]")], [V("y"), V("w")],
        [
            Const("b", bytes),
            Const("f", floats),
            N("Cast", ["b"], ["wide"], IR.Attribute.Int("to", (long)DataType.Double)), // 160 bytes from 20: stays
            N("Neg", ["f"], ["neg"]),                                                   // 400 bytes from 400: folds
            N("Add", ["x", "wide"], ["y"]),
            N("Add", ["z", "neg"], ["w"]),
        ]);
        var folded = ConstantFolding.Run(Inferred(g), maxTensorBytes: 64);
        Assert.Contains("wide = Cast(b)", Text(folded));
        Assert.True(folded.Graph.Initializers.ContainsKey("neg"));
        Assert.True(ConstantFolding.Run(Inferred(g), maxTensorBytes: 160).Graph.Initializers.ContainsKey("wide"));
    }

    [Fact]
    public void GraphOutputsOverridableInputsAndFailingNodesStay()
    {
        var g = new Graph("main", [V("x", "int32[1]"), V("w", "int32[1]")], [V("y"), V("o")],
        [
            Const("one", Tensor.FromArray(new[] { 1 }, 1)),
            Const("zero", Tensor.FromArray(new[] { 0 }, 1)),
            N("Neg", ["w"], ["nw"]),            // w has an initializer, but a caller may feed it
            N("Div", ["one", "zero"], ["bad"]), // integer division by zero fails: left for run time
            N("Neg", ["one"], ["o"]),           // a graph output keeps its node
            N("Sum", ["x", "nw", "bad"], ["y"]),
        ], new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(new[] { 5 }, 1) });
        AssertText("""
            graph main(x: int32[1], w: int32[1]) -> (y: ?, o: ?) {
              init one = int32[1] {1}
              init w = int32[1] {5}
              init zero = int32[1] {0}
              nw = Neg(w)
              bad = Div(one, zero)
              o = Neg(one)
              y = Sum(x, nw, bad)
              return y, o
            }
            """, ConstantFolding.Run(Inferred(g)));
    }

    [Fact]
    public void SubgraphsFoldWithOuterConstantsButNotShadowedNames()
    {
        // The then-branch computes c*c from the outer constant c: it folds into the branch. The loop body
        // has an input named c that shadows the outer constant: Neg(c) there must stay.
        var then = new Graph("then", [], [V("t")], [N("Mul", ["c", "c"], ["cc"]), N("Add", ["cc", "x"], ["t"])]);
        var otherwise = new Graph("else", [], [V("e")], [N("Identity", ["x"], ["e"])]);
        var body = new Graph("body", [V("i", "int64[]"), V("cond", "bool[]"), V("c", "float32[1]")], [V("cond_out"), V("c_out")],
            [N("Identity", ["cond"], ["cond_out"]), N("Neg", ["c"], ["c_out"])]);
        var g = new Graph("main", [V("x", "float32[1]"), V("flag", "bool[]"), V("n", "int64[]")], [V("y"), V("l")],
        [
            Const("c", F(3)),
            N("If", ["flag"], ["y"], IR.Attribute.Graph("then_branch", then), IR.Attribute.Graph("else_branch", otherwise)),
            N("Loop", ["n", "", "x"], ["l"], IR.Attribute.Graph("body", body)),
        ]);
        AssertText("""
            graph main(x: float32[1], flag: bool[], n: int64[]) -> (y: ?, l: ?) {
              init c = float32[1] {3}
              y = If(flag) {else_branch=graph else, then_branch=graph then}
                graph then() -> (t: ?) {
                  init cc = float32[1] {9}
                  t = Add(cc, x)
                  return t
                }
                graph else() -> (e: ?) {
                  e = Identity(x)
                  return e
                }
              l = Loop(n, _, x) {body=graph body}
                graph body(i: int64[], cond: bool[], c: float32[1]) -> (cond_out: ?, c_out: ?) {
                  cond_out = Identity(cond)
                  c_out = Neg(c)
                  return cond_out, c_out
                }
              return y, l
            }
            """, ConstantFolding.Run(Inferred(g)));
    }
}
