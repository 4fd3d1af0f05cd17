using Loom.IR;
using Loom.Passes;
using static Loom.Tests.Passes.PassTestModels;

namespace Loom.Tests.Passes;

public sealed class CommonSubexpressionEliminationTests
{
    [Fact]
    public void MergesRepeatedChainsInOneSweep()
    {
        var g = new Graph("main", [V("x", "float32[2]")], [V("y")],
        [
            N("Neg", ["x"], ["a1"]),
            N("Neg", ["x"], ["a2"]),
            N("LeakyRelu", ["a1"], ["b1"], IR.Attribute.Float("alpha", 0.1f)),
            N("LeakyRelu", ["a2"], ["b2"], IR.Attribute.Float("alpha", 0.1f)),
            N("LeakyRelu", ["a2"], ["b3"], IR.Attribute.Float("alpha", 0.2f)),
            N("Sum", ["b1", "b2", "b3"], ["y"]),
        ]);
        AssertText("""
            graph main(x: float32[2]) -> (y: ?) {
              a1 = Neg(x)
              b1 = LeakyRelu(a1) {alpha=0.1}
              b3 = LeakyRelu(a1) {alpha=0.2}
              y = Sum(b1, b1, b3)
              return y
            }
            """, CommonSubexpressionElimination.Run(M(g)));
    }

    [Fact]
    public void ReturnsTheSameModelWhenNothingRepeats()
    {
        var model = M(new Graph("main", [V("x", "float32[2]")], [V("y")], [N("Neg", ["x"], ["a"]), N("Abs", ["a"], ["y"])]));
        Assert.Same(model, CommonSubexpressionElimination.Run(model));
    }

    [Fact]
    public void MergesEqualConstantsAndInitializersBitwise()
    {
        var g = new Graph("main", [V("x", "float32[1]")], [V("y")],
        [
            Const("c1", F(2)),
            Const("c2", F(2)),
            Const("pz", F(0f)),
            Const("nz", F(-0f)), // -0 is not 0: 1/-0 is -inf
            N("Sum", ["x", "c1", "c2", "pz", "nz", "w1", "w2"], ["y"]),
        ], new Dictionary<string, Tensor> { ["w1"] = F(5, 6), ["w2"] = F(5, 6) });
        AssertText("""
            graph main(x: float32[1]) -> (y: ?) {
              init w1 = float32[2] {5, 6}
              c1 = Constant() {value=float32[1] {2}}
              pz = Constant() {value=float32[1] {0}}
              nz = Constant() {value=float32[1] {-0}}
              y = Sum(x, c1, c1, pz, nz, w1, w1)
              return y
            }
            """, CommonSubexpressionElimination.Run(M(g)));
    }

    [Fact]
    public void RandomOperatorsAndGraphOutputsAreNotMerged()
    {
        var g = new Graph("main", [V("x", "float32[2]")], [V("y1"), V("y2"), V("s")],
        [
            N("RandomUniformLike", ["x"], ["r1"]),
            N("RandomUniformLike", ["x"], ["r2"]),
            N("Add", ["r1", "r2"], ["s"]),
            N("Neg", ["x"], ["y1"]),
            N("Neg", ["x"], ["y2"]),
        ]);
        var model = M(g);
        Assert.Same(model, CommonSubexpressionElimination.Run(model));
    }

    [Fact]
    public void ReadsInSubgraphsFollowTheMerge()
    {
        var then = new Graph("then", [], [V("t")], [N("Identity", ["a2"], ["t"])]);
        var otherwise = new Graph("else", [], [V("a2")], []); // a branch may return an outer value directly
        var g = new Graph("main", [V("x", "float32[1]"), V("flag", "bool[]")], [V("y")],
        [
            N("Neg", ["x"], ["a1"]),
            N("Neg", ["x"], ["a2"]),
            N("If", ["flag"], ["y"], IR.Attribute.Graph("then_branch", then), IR.Attribute.Graph("else_branch", otherwise)),
        ]);
        AssertText("""
            graph main(x: float32[1], flag: bool[]) -> (y: ?) {
              a1 = Neg(x)
              y = If(flag) {else_branch=graph else, then_branch=graph then}
                graph then() -> (t: ?) {
                  t = Identity(a1)
                  return t
                }
                graph else() -> (a1: ?) {
                  return a1
                }
              return y
            }
            """, CommonSubexpressionElimination.Run(M(g)));
    }
}
