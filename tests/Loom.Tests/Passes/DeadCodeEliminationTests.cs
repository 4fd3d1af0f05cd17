using Loom.IR;
using Loom.Passes;
using static Loom.Tests.Passes.PassTestModels;

namespace Loom.Tests.Passes;

public sealed class DeadCodeEliminationTests
{
    [Fact]
    public void RemovesUnreadChainsAndInitializers()
    {
        var g = new Graph("main", [V("x", "float32[2]")], [V("y")],
        [
            N("Relu", ["x"], ["a"]),
            N("Add", ["a", "w"], ["b"]),
            N("Neg", ["b"], ["c"]),
            N("Abs", ["x"], ["y"]),
        ], new Dictionary<string, Tensor> { ["w"] = F(1, 2), ["unused"] = F(3) });
        AssertText("""
            graph main(x: float32[2]) -> (y: ?) {
              y = Abs(x)
              return y
            }
            """, DeadCodeElimination.Run(M(g)));
    }

    [Fact]
    public void ReturnsTheSameModelWhenEverythingIsRead()
    {
        var model = M(new Graph("main", [V("x", "float32[2]")], [V("y")], [N("Add", ["x", "w"], ["y"])],
            new Dictionary<string, Tensor> { ["w"] = F(1, 2) }));
        Assert.Same(model, DeadCodeElimination.Run(model));
    }

    [Fact]
    public void KeepsNodesOfUnknownDomainsAndWhatTheyRead()
    {
        var g = new Graph("main", [V("x", "float32[2]"), V("w", "float32[2]")], [V("y")],
        [
            N("Neg", ["x"], ["n"]),
            new Node("Print", ["n"], ["printed"], domain: "com.example"),
            N("Abs", ["x"], ["y"]),
        ], new Dictionary<string, Tensor> { ["w"] = F(1, 2) }); // an input's initializer is its default: kept
        var model = M(g);
        Assert.Same(model, DeadCodeElimination.Run(model));

        // An If nobody reads stays when a branch holds such a node.
        var then = new Graph("then", [], [V("t")], [new Node("Print", ["x"], ["t"], domain: "com.example")]);
        var otherwise = new Graph("else", [], [V("e")], [N("Identity", ["x"], ["e"])]);
        var withIf = M(new Graph("main", [V("x", "float32[2]"), V("flag", "bool[]")], [V("y")],
        [
            N("If", ["flag"], ["unread"], IR.Attribute.Graph("then_branch", then), IR.Attribute.Graph("else_branch", otherwise)),
            N("Abs", ["x"], ["y"]),
        ]));
        Assert.Same(withIf, DeadCodeElimination.Run(withIf));
    }

    [Fact]
    public void ValuesCapturedBySubgraphsStayAndSubgraphsArePruned()
    {
        var then = new Graph("then", [], [V("t")], [N("Neg", ["x"], ["unread"]), N("Identity", ["outer"], ["t"])]);
        var otherwise = new Graph("else", [], [V("e")], [N("Identity", ["x"], ["e"])]);
        var g = new Graph("main", [V("x", "float32[1]"), V("flag", "bool[]")], [V("y")],
        [
            N("Neg", ["x"], ["outer"]),
            N("If", ["flag"], ["y"], IR.Attribute.Graph("then_branch", then), IR.Attribute.Graph("else_branch", otherwise)),
        ]);
        AssertText("""
            graph main(x: float32[1], flag: bool[]) -> (y: ?) {
              outer = Neg(x)
              y = If(flag) {else_branch=graph else, then_branch=graph then}
                graph then() -> (t: ?) {
                  t = Identity(outer)
                  return t
                }
                graph else() -> (e: ?) {
                  e = Identity(x)
                  return e
                }
              return y
            }
            """, DeadCodeElimination.Run(M(g)));
    }
}
