using Loom.IR;
using Loom.Passes;
using static Loom.Tests.Passes.PassTestModels;

namespace Loom.Tests.Passes;

/// <summary>
/// Affine folding of BatchNormalization. Its parameters are chosen so s = γ/√(var+ε) = {2, 1} and the folded values are exact in binary:
/// w' = w·s, b' = (b − μ)·s + β.
/// </summary>
public sealed class AffineFoldingBatchNormTests
{
    private static readonly Dictionary<string, Tensor> Bn = new()
    {
        ["gamma"] = F(4, 3), ["beta"] = F(0.25f, 0.5f), ["mean"] = F(1, -1), ["var"] = F(3, 8),
    };

    private static Node BatchNorm(string x, string y, params IR.Attribute[] attributes) =>
        N("BatchNormalization", [x, "gamma", "beta", "mean", "var"], [y], [IR.Attribute.Float("epsilon", 1f), .. attributes]);

    private static Graph WithBn(string input, IEnumerable<Node> nodes, Dictionary<string, Tensor> weights, Dictionary<string, IrType> types, params ValueInfo[] outputs)
    {
        var inits = new Dictionary<string, Tensor>(Bn);
        foreach (var (k, v) in weights) inits[k] = v;
        return new Graph("main", [V("x", input)], outputs.Length > 0 ? outputs : [V("y")], nodes, inits, types);
    }

    [Fact]
    public void FoldsIntoAConvWithBias()
    {
        var g = WithBn("float32[1,1,4,4]",
            [N("Conv", ["x", "w", "b"], ["c"]), BatchNorm("c", "y")],
            new() { ["w"] = F([1, 2], 2, 1, 1, 1), ["b"] = F(0.5f, -1) },
            new() { ["c"] = T("float32[1,2,4,4]"), ["y"] = T("float32[1,2,4,4]") });
        var folded = AffineFolding.Run(M(g, opset: 15));
        Assert.Contains("y = Conv(x, w_folded, b_folded)", Text(folded));
        Assert.DoesNotContain("BatchNormalization", Text(folded));
        Assert.Equal([2f, 2f], folded.Graph.Initializers["w_folded"].ToArray<float>());
        Assert.Equal([-0.75f, 0.5f], folded.Graph.Initializers["b_folded"].ToArray<float>());
    }

    [Fact]
    public void GivesAConvWithoutBiasOne()
    {
        var g = WithBn("float32[1,1,4,4]",
            [N("Conv", ["x", "w"], ["c"]), BatchNorm("c", "y")],
            new() { ["w"] = F([1, 2], 2, 1, 1, 1) },
            new() { ["c"] = T("float32[1,2,4,4]"), ["y"] = T("float32[1,2,4,4]") });
        var folded = AffineFolding.Run(M(g));
        Assert.Contains("y = Conv(x, w_folded, w_bias_folded)", Text(folded));
        Assert.Equal([-1.75f, 1.5f], folded.Graph.Initializers["w_bias_folded"].ToArray<float>());
    }

    [Fact]
    public void ScalesTheOutputChannelsOfAGroupedConvTranspose()
    {
        // W [C=4, M/g=1, 1, 1] with group 2: input channels 0-1 feed output channel 0, 2-3 feed channel 1.
        var g = WithBn("float32[1,4,3,3]",
            [N("ConvTranspose", ["x", "w"], ["c"], IR.Attribute.Int("group", 2)), BatchNorm("c", "y")],
            new() { ["w"] = F([1, 1, 1, 1], 4, 1, 1, 1) },
            new() { ["c"] = T("float32[1,2,3,3]"), ["y"] = T("float32[1,2,3,3]") });
        var folded = AffineFolding.Run(M(g));
        Assert.Equal([2f, 2f, 1f, 1f], folded.Graph.Initializers["w_folded"].ToArray<float>());
    }

    [Fact]
    public void FoldsIntoGemmColumnsAndItsScaledBias()
    {
        // Y = A·Bᵀ + 0.5·C with B [M=2, K=2]: row m of B feeds channel m; C' = s·0.5·C + β − μ·s, beta becomes 1.
        var g = WithBn("float32[3,2]",
            [N("Gemm", ["x", "w", "b"], ["c"], IR.Attribute.Int("transB", 1), IR.Attribute.Float("beta", 0.5f)), BatchNorm("c", "y")],
            new() { ["w"] = F([1, 2, 3, 4], 2, 2), ["b"] = F(1, 2) },
            new() { ["c"] = T("float32[3,2]"), ["y"] = T("float32[3,2]") });
        var folded = AffineFolding.Run(M(g));
        Assert.Contains("y = Gemm(x, w_folded, b_folded) {transB=1}", Text(folded));
        Assert.Equal([2f, 4f, 3f, 4f], folded.Graph.Initializers["w_folded"].ToArray<float>());
        Assert.Equal([-0.75f, 2.5f], folded.Graph.Initializers["b_folded"].ToArray<float>());
    }

    [Fact]
    public void FoldsIntoMatMulAndAdd()
    {
        var g = WithBn("float32[3,2]",
            [N("MatMul", ["x", "w"], ["m"]), N("Add", ["b", "m"], ["a"]), BatchNorm("a", "y")],
            new() { ["w"] = F([1, 2, 3, 4], 2, 2), ["b"] = F(0.5f, -1) },
            new() { ["m"] = T("float32[3,2]"), ["a"] = T("float32[3,2]"), ["y"] = T("float32[3,2]") });
        var folded = AffineFolding.Run(M(g));
        Assert.Contains("m = MatMul(x, w_folded)", Text(folded));
        Assert.Contains("y = Add(b_folded, m)", Text(folded));
        Assert.Equal([2f, 2f, 6f, 4f], folded.Graph.Initializers["w_folded"].ToArray<float>()); // columns scaled by {2, 1}
        Assert.Equal([-0.75f, 0.5f], folded.Graph.Initializers["b_folded"].ToArray<float>());
    }

    [Fact]
    public void FoldsAChainIntoOneSweep()
    {
        // ConvTranspose → Add (bias) → BatchNormalization → Mul: all into the ConvTranspose.
        var types = new Dictionary<string, IrType> { ["c"] = T("float32[1,2,3,3]"), ["a"] = T("float32[1,2,3,3]"), ["n"] = T("float32[1,2,3,3]"), ["y"] = T("float32[1,2,3,3]") };
        var g = WithBn("float32[1,2,3,3]",
            [N("ConvTranspose", ["x", "w"], ["c"]), N("Add", ["c", "k"], ["a"]), BatchNorm("a", "n"), N("Mul", ["n", "two"], ["y"])],
            new() { ["w"] = F([1, 1, 1, 1], 2, 2, 1, 1), ["k"] = F([1, 1], 1, 2, 1, 1), ["two"] = F(2) }, types);
        var folded = AffineFolding.Run(M(g));
        Assert.Contains("y = ConvTranspose(x, w_folded, w_bias_folded)", Text(folded));
        Assert.Equal(1, PassPipeline.CountNodes(folded.Graph));
        // The maps compose, and the weights are rewritten once: W' = W·s·2 with s = {2, 1}; b' = ((0 + 1)·s + t)·2 with t = {−1.75, 1.5}.
        Assert.Equal([4f, 2f, 4f, 2f], folded.Graph.Initializers["w_folded"].ToArray<float>());
        Assert.Equal([0.5f, 5f], folded.Graph.Initializers["w_bias_folded"].ToArray<float>());
    }

    [Fact]
    public void MulAndAddAfterABatchNormGoIntoItsScaleAndBias()
    {
        var types = new Dictionary<string, IrType> { ["n"] = T("float32[1,2,4,4]"), ["m"] = T("float32[1,2,4,4]"), ["y"] = T("float32[1,2,4,4]") };
        var g = WithBn("float32[1,2,4,4]",
            [BatchNorm("x", "n"), N("Mul", ["n", "k"], ["m"]), N("Add", ["m", "k"], ["y"])],
            new() { ["k"] = F([3, -1], 2, 1, 1) }, types);
        var folded = AffineFolding.Run(M(g));
        Assert.Contains("y = BatchNormalization(x, gamma_folded, beta_folded, mean, var) {epsilon=1}", Text(folded));
        Assert.Equal([12f, -3f], folded.Graph.Initializers["gamma_folded"].ToArray<float>());
        Assert.Equal([3.75f, -1.5f], folded.Graph.Initializers["beta_folded"].ToArray<float>()); // β·k + k
    }

    [Fact]
    public void LeavesTrainingModeSharedOutputsAndVariableWeightsAlone()
    {
        var types = new Dictionary<string, IrType> { ["c"] = T("float32[1,2,4,4]"), ["y"] = T("float32[1,2,4,4]") };
        var weights = new Dictionary<string, Tensor> { ["w"] = F([1, 2], 2, 1, 1, 1) };
        var training = WithBn("float32[1,1,4,4]", [N("Conv", ["x", "w"], ["c"]), BatchNorm("c", "y", IR.Attribute.Int("training_mode", 1))], weights, types);
        var shared = WithBn("float32[1,1,4,4]", [N("Conv", ["x", "w"], ["c"]), BatchNorm("c", "y")], weights, types, V("y"), V("c"));
        var variable = new Graph("main", [V("x", "float32[1,1,4,4]"), V("w", "float32[2,1,1,1]")], [V("y")],
            [N("Conv", ["x", "w"], ["c"]), BatchNorm("c", "y")], Bn, types);
        foreach (var g in new[] { training, shared, variable })
        {
            var model = M(g, opset: 15);
            Assert.Same(model, AffineFolding.Run(model));
        }
    }

    [Fact]
    public void BeforeOpset14ABatchNormWithStatisticsOutputsIsTraining()
    {
        var types = new Dictionary<string, IrType> { ["c"] = T("float32[1,2,4,4]"), ["y"] = T("float32[1,2,4,4]") };
        var bn = N("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["y", "running_mean"]);
        var g = WithBn("float32[1,1,4,4]", [N("Conv", ["x", "w"], ["c"]), bn], new() { ["w"] = F([1, 2], 2, 1, 1, 1) }, types, V("y"), V("running_mean"));
        var model = M(g, opset: 9);
        Assert.Same(model, AffineFolding.Run(model));
    }

    [Fact]
    public void ScalesAWeightBuiltFromConstantsWithAMulNodeAndKeepsTheOutputs()
    {
        // W = ConstantOfShape([2,1,1,1], 1.5): too big to fold in real models, so the pass scales it with a node the runtime runs once.
        var nodes = new[]
        {
            N("ConstantOfShape", ["wshape"], ["w"], IR.Attribute.Tensor("value", F(1.5f))),
            N("Conv", ["x", "w"], ["c"]), BatchNorm("c", "y"),
        };
        var g = WithBn("float32[1,1,2,2]", nodes, new() { ["wshape"] = Tensor.FromArray(new long[] { 2, 1, 1, 1 }, 4) },
            new() { ["w"] = T("float32[2,1,1,1]"), ["c"] = T("float32[1,2,2,2]"), ["y"] = T("float32[1,2,2,2]") });
        var model = M(g, opset: 15);
        var folded = AffineFolding.Run(model);
        var text = Text(folded);
        Assert.Contains("w_scaled = Mul(w, w_scale_folded)", text);
        Assert.Contains("y = Conv(x, w_scaled, w_bias_folded)", text);
        Assert.DoesNotContain("BatchNormalization", text);
        Assert.Equal([2f, 1f], folded.Graph.Initializers["w_scale_folded"].ToArray<float>());
        Assert.Equal([-1.75f, 1.5f], folded.Graph.Initializers["w_bias_folded"].ToArray<float>());
        // The folded graph computes what the unfolded one does, and what hand computation gives.
        var x = Tensor.FromArray(new float[] { 1, -2, 0.5f, 4 }, 1, 1, 2, 2);
        float[] Run(Model m)
        {
            using var session = LoomSession.Create(m);
            using var result = session.Run(("x", x));
            return result.Tensor("y").ToArray<float>();
        }
        Assert.Equal(Run(model), Run(folded));
        Assert.Equal([1.25f, -7.75f, -0.25f, 10.25f, 3f, -1.5f, 2.25f, 7.5f], Run(folded)); // 3x − 1.75 and 1.5x + 1.5, exact in binary
    }

    [Fact]
    public void LeavesAWeightBuiltByARandomOperatorAlone()
    {
        var nodes = new[]
        {
            N("RandomNormal", [], ["w"], IR.Attribute.Ints("shape", [2, 1, 1, 1])),
            N("Conv", ["x", "w"], ["c"]), BatchNorm("c", "y"),
        };
        var g = WithBn("float32[1,1,2,2]", nodes, new(), new() { ["w"] = T("float32[2,1,1,1]"), ["c"] = T("float32[1,2,2,2]"), ["y"] = T("float32[1,2,2,2]") });
        var model = M(g, opset: 15);
        Assert.Same(model, AffineFolding.Run(model));
    }
}
