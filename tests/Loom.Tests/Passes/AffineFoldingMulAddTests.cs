using Loom.IR;
using Loom.Passes;
using static Loom.Tests.Passes.PassTestModels;

namespace Loom.Tests.Passes;

/// <summary>Affine folding of Mul, Add and Sub by per-channel constants.</summary>
public sealed class AffineFoldingMulAddTests
{
    private static readonly Tensor W = F([1, 2], 2, 1, 1, 1);

    private static Model Model(IEnumerable<Node> nodes, Dictionary<string, Tensor> constants, params string[] values)
    {
        var inits = new Dictionary<string, Tensor>(constants) { ["w"] = W };
        var types = values.ToDictionary(v => v, _ => (IrType)T("float32[1,2,4,4]"));
        return M(new Graph("main", [V("x", "float32[1,1,4,4]")], [V("y")], nodes, inits, types));
    }

    [Fact]
    public void FoldsAMulAddSubChainInOneSweep()
    {
        var model = Model(
            [N("Conv", ["x", "w"], ["c"]), N("Mul", ["k", "c"], ["m"]), N("Add", ["m", "shift"], ["a"]), N("Sub", ["a", "one"], ["y"])],
            new() { ["k"] = F([3, 0.5f], 2, 1, 1), ["shift"] = F([1, 2], 1, 2, 1, 1), ["one"] = F(1) },
            "c", "m", "a", "y");
        var folded = AffineFolding.Run(model);
        AssertText("""
            graph main(x: float32[1,1,4,4]) -> (y: ?) {
              init k = float32[2,1,1] {3, 0.5}
              init one = float32[1] {1}
              init shift = float32[1,2,1,1] {1, 2}
              init w = float32[2,1,1,1] {1, 2}
              init w_bias_folded = float32[2] {0, 1}
              init w_folded = float32[2,1,1,1] {3, 1}
              y = Conv(x, w_folded, w_bias_folded)
              return y
            }
            """, folded);
    }

    [Fact]
    public void ReturnsTheSameModelWhenTheConstantIsNotPerChannel()
    {
        var spatial = Model([N("Conv", ["x", "w"], ["c"]), N("Mul", ["c", "k"], ["y"])], new() { ["k"] = F(new float[16], 1, 1, 4, 4) }, "c", "y");
        var lastAxis = Model([N("Conv", ["x", "w"], ["c"]), N("Add", ["c", "k"], ["y"])], new() { ["k"] = F(1, 2) }, "c", "y");
        var moreDims = Model([N("Conv", ["x", "w"], ["c"]), N("Add", ["c", "k"], ["y"])], new() { ["k"] = F([1, 2], 1, 1, 2, 1, 1) }, "c", "y");
        var infinite = Model([N("Conv", ["x", "w"], ["c"]), N("Mul", ["c", "k"], ["y"])], new() { ["k"] = F(float.PositiveInfinity) }, "c", "y");
        var subtrahend = Model([N("Conv", ["x", "w"], ["c"]), N("Sub", ["k", "c"], ["y"])], new() { ["k"] = F(1) }, "c", "y");
        foreach (var model in new[] { spatial, lastAxis, moreDims, infinite, subtrahend })
            Assert.Same(model, AffineFolding.Run(model));
    }

    [Fact]
    public void FoldsAPerColumnMulIntoGemm()
    {
        var g = new Graph("main", [V("x", "float32[3,2]")], [V("y")],
            [N("Gemm", ["x", "w"], ["c"]), N("Mul", ["c", "k"], ["y"])],
            new Dictionary<string, Tensor> { ["w"] = F([1, 2, 3, 4], 2, 2), ["k"] = F([10, 100], 1, 2) },
            new Dictionary<string, IrType> { ["c"] = T("float32[3,2]"), ["y"] = T("float32[3,2]") });
        var folded = AffineFolding.Run(M(g));
        Assert.Contains("y = Gemm(x, w_folded, w_bias_folded)", Text(folded));
        Assert.Equal([10f, 200f, 30f, 400f], folded.Graph.Initializers["w_folded"].ToArray<float>());
    }

    [Fact]
    public void LeavesAConvWhoseOutputIsAlsoReadElsewhere()
    {
        var model = Model([N("Conv", ["x", "w"], ["c"]), N("Mul", ["c", "k"], ["m"]), N("Add", ["m", "c"], ["y"])],
            new() { ["k"] = F(2) }, "c", "m", "y");
        Assert.Same(model, AffineFolding.Run(model));
    }
}
