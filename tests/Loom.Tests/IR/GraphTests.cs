using Loom.IR;

namespace Loom.Tests.IRTests;

public sealed class GraphTests
{
    private static Node N(string op, string[] ins, string[] outs) => new(op, ins, outs);

    [Fact]
    public void WithMethodsReturnTheSameObjectWhenNothingChanges()
    {
        var n = new Node("Relu", ["x"], ["y"], [IR.Attribute.Int("a", 1)]);
        Assert.Same(n, n.WithInputs(["x"]));
        Assert.Same(n, n.WithOutputs(["y"]));
        Assert.Same(n, n.WithAttributes(n.Attributes));
        Assert.NotSame(n, n.WithInputs(["z"]));
        var g = new Graph("g", [new ValueInfo("x", null)], [new ValueInfo("y", null)], [n]);
        Assert.Same(g, g.WithNodes([n]));
        Assert.Same(g, g.WithNodes(g.Nodes.Select(x => x.WithSubgraphs(s => s))));
    }

    [Fact]
    public void VerifierRejectsDoubleAssignment()
    {
        var g = new Graph("g", [new ValueInfo("x", null)], [new ValueInfo("y", null)],
            [N("Relu", ["x"], ["y"]), N("Relu", ["x"], ["y"])]);
        var e = Assert.Throws<GraphException>(() => Verifier.Verify(g));
        Assert.Contains("'y' is assigned more than once", e.Message);
    }

    [Fact]
    public void VerifierRejectsUseBeforeDefinition()
    {
        var g = new Graph("g", [new ValueInfo("x", null)], [new ValueInfo("z", null)],
            [N("Relu", ["y"], ["z"]), N("Relu", ["x"], ["y"])]);
        var e = Assert.Throws<GraphException>(() => Verifier.Verify(g));
        Assert.Contains("uses 'y'", e.Message);
    }

    [Fact]
    public void TopologicalSortOrdersAndDetectsCycles()
    {
        var g = new Graph("g", [new ValueInfo("x", null)], [new ValueInfo("z", null)],
            [N("Relu", ["y"], ["z"]), N("Relu", ["x"], ["y"])]);
        var sorted = TopologicalSort.Sort(g);
        Assert.Equal(["y", "z"], sorted.Nodes.Select(n => n.Outputs[0]));
        Verifier.Verify(sorted);

        var cyclic = new Graph("g", [new ValueInfo("x", null)], [new ValueInfo("z", null)],
            [N("Add", ["x", "z"], ["y"]), N("Relu", ["y"], ["z"])]);
        var e = Assert.Throws<GraphException>(() => TopologicalSort.Sort(cyclic));
        Assert.Contains("cycle", e.Message);
    }

    [Fact]
    public void SubgraphsMaySeeOuterValues()
    {
        var body = new Graph("then", [], [new ValueInfo("t", null)], [N("Identity", ["outer"], ["t"])]);
        var g = new Graph("g", [new ValueInfo("c", null), new ValueInfo("outer", null)], [new ValueInfo("y", null)],
            [new Node("If", ["c"], ["y"], [IR.Attribute.Graph("then_branch", body), IR.Attribute.Graph("else_branch", body)])]);
        Verifier.Verify(g);
        Assert.Contains("outer", TopologicalSort.FreeVariables(body));
    }

    [Fact]
    public void TextFormShowsTypesAttributesAndConstants()
    {
        var x = new ValueInfo("x", new TensorType(DataType.Float, new Shape([Dim.Symbol("batch"), Dim.Of(3)])));
        var g = new Graph("main", [x], [new ValueInfo("y", null)],
            [new Node("Gemm", ["x", "w"], ["y"], [IR.Attribute.Float("alpha", 0.5f), IR.Attribute.Int("transB", 1)])],
            new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3) });
        var text = TextForm.FormatGraph(g);
        Assert.Equal("""
            graph main(x: float32[batch,3]) -> (y: ?) {
              init w = float32[2,3] {1, 2, 3, 4, 5, 6}
              y = Gemm(x, w) {alpha=0.5, transB=1}
              return y
            }

            """.Replace("\r", ""), text);
    }
}
