using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Passes;
using Loom.Tests.Models;
using static Loom.Tests.Passes.PassTestModels;

namespace Loom.Tests.Passes;

/// <summary>Element-wise chains fuse into one com.loom.ElementwiseChain node, only where safe, with the unfused outputs.</summary>
public sealed class FuseElementwiseChainsTests
{
    private static readonly Dictionary<string, Tensor> Scalars = new() { ["two"] = Tensor.Scalar(2f), ["six"] = Tensor.Scalar(6f), ["zero"] = Tensor.Scalar(0f) };

    [Fact]
    public void AChainWithScalarAndTensorOperandsBecomesOneNode()
    {
        // 2 - x (the chain value on the right), + y (same shape), sigmoid, clip to [0, 6].
        var g = new Graph("main", [V("x", "float32[batch,5,7]"), V("y", "float32[batch,5,7]")], [V("out")],
        [
            N("Sub", ["two", "x"], ["a"]),
            N("Add", ["a", "y"], ["b"]),
            N("Sigmoid", ["b"], ["c"]),
            N("Clip", ["c", "zero", "six"], ["out"]),
        ], Scalars);
        var fused = FuseElementwiseChains.Run(Inferred(g));
        AssertText("""
            graph main(x: float32[batch,5,7], y: float32[batch,5,7]) -> (out: ?) {
              init six = float32[] {6}
              init two = float32[] {2}
              init zero = float32[] {0}
              out = com.loom.ElementwiseChain(x, y) {alpha=[2, 0, 0, 0], beta=[0, 0, 0, 6], operands=[-1, 1, -1, -1], ops=["Sub", "Add", "Sigmoid", "Clip"], swap=[1, 0, 0, 0]}
              return out
            }
            """, fused);
        Assert.Equal(1, fused.Opsets["com.loom"]);
        AssertSameOutputs(Inferred(g), fused, batch: 3);
    }

    [Fact]
    public void SwishReadsItsInputTwiceAsOperandZero()
    {
        var g = new Graph("main", [V("x", "float32[4,300]")], [V("y")],
            [N("Sigmoid", ["x"], ["s"]), N("Mul", ["x", "s"], ["m"]), N("Mul", ["m", "two"], ["y"])], Scalars);
        var fused = FuseElementwiseChains.Run(Inferred(g));
        var node = Assert.Single(fused.Graph.Nodes);
        Assert.Equal(["x"], node.Inputs);
        Assert.Equal([-1L, 0, -1], node.GetInts("operands")!.Value);
        Assert.Equal([0L, 1, 0], node.GetInts("swap")!.Value); // Mul(x, s): the chain value s is the right operand
        AssertSameOutputs(Inferred(g), fused, batch: 1);
    }

    [Fact]
    public void SharedGraphOutputAndBroadcastValuesEndChains()
    {
        var g = new Graph("main", [V("x", "float32[2,3,4]"), V("ch", "float32[3,1]")], [V("y"), V("r")],
        [
            N("Relu", ["x"], ["r"]),            // a graph output: the chain may not swallow it
            N("Neg", ["r"], ["n"]),
            N("Exp", ["n"], ["e"]),
            N("Add", ["e", "ch"], ["p"]),       // a per-channel operand broadcasts: not a chain op
            N("Tanh", ["p"], ["t"]),
            N("Abs", ["t"], ["u"]),
            N("Mul", ["u", "t"], ["y"]),        // t has two readers: Abs and this Mul
        ]);
        AssertText("""
            graph main(x: float32[2,3,4], ch: float32[3,1]) -> (y: ?, r: ?) {
              r = Relu(x)
              e = com.loom.ElementwiseChain(r) {alpha=[0, 0], beta=[0, 0], operands=[-1, -1], ops=["Neg", "Exp"], swap=[0, 0]}
              p = Add(e, ch)
              t = Tanh(p)
              y = com.loom.ElementwiseChain(t) {alpha=[0, 0], beta=[0, 0], operands=[-1, 0], ops=["Abs", "Mul"], swap=[0, 0]}
              return y, r
            }
            """, FuseElementwiseChains.Run(Inferred(g)));
    }

    [Fact]
    public void ReturnsTheSameModelWhenNoChainHasTwoNodes()
    {
        var g = new Graph("main", [V("x", "float32[2,3]"), V("i", "int64[2,3]")], [V("y"), V("z")],
            [N("Relu", ["x"], ["r"]), N("MatMul", ["r", "w"], ["y"]), N("Neg", ["i"], ["n"]), N("Abs", ["n"], ["z"])],
            new Dictionary<string, Tensor> { ["w"] = F(new float[9], 3, 3) });
        var model = Inferred(g);
        Assert.Same(model, FuseElementwiseChains.Run(model));
    }

    [Fact]
    public void TheLevelTwoPipelineFusesOnlyWithLoomOperators()
    {
        var g = new Graph("main", [V("x", "float32[8]")], [V("y")], [N("Relu", ["x"], ["r"]), N("Sqrt", ["r"], ["y"])]);
        var portable = PassPipeline.ForLevel(2).Run(M(g));
        Assert.Equal(["Relu", "Sqrt"], portable.Graph.Nodes.Select(n => n.OpType));
        var loom = PassPipeline.ForLevel(2, new PassOptions { LoomOperators = true }).Run(M(g));
        Assert.Equal([FuseElementwiseChains.OpType], loom.Graph.Nodes.Select(n => n.OpType));
    }

    // The light CNNs have no chain left once Conv epilogues are fused (0: the pass must leave them alone);
    // the PaddleOCR detector has four Mul → Add chains.
    public static TheoryData<string, int> Models() => new()
    {
        { "onnx-backend-tests/light/light_inception_v1.onnx", 0 }, { "onnx-backend-tests/light/light_squeezenet.onnx", 0 },
        { "onnx-backend-tests/light/light_resnet50.onnx", 0 }, { "onnx-backend-tests/light/light_densenet121.onnx", 0 },
        { "onnx-backend-tests/light/light_shufflenet.onnx", 0 },
        { "models/ch_PP-OCRv4_det_infer.onnx", 4 }, { "models/ch_ppocr_mobile_v2.0_cls_infer.onnx", 0 },
    };

    [Theory, MemberData(nameof(Models))]
    public void RealModelsGiveTheSameOutputsFusedAndUnfused(string file, int chains)
    {
        var path = SharedData.Require(file.Split('/'));
        // The light models' weights are ConstantOfShape fills: random ones say more.
        var model = file.Contains("/light_") ? LightModelsRandomWeightsTests.WithRandomWeights(OnnxImporter.Load(path), seed: 5) : OnnxImporter.Load(path);
        // Everything the session does before the chain pass, then the chain pass alone.
        var before = PassPipeline.ForLevel(2, new PassOptions { LoomOperators = true }).Passes.Where(p => p.Name != "fuse-elementwise-chains");
        var unfused = new PassPipeline(before).Run(model);
        var fused = FuseElementwiseChains.Run(unfused);
        Assert.Equal(chains, fused.Graph.Nodes.Count(n => n.OpType == FuseElementwiseChains.OpType));
        AssertSameOutputs(unfused, fused, ImageSize);
    }

    /// <summary>Sizes for the symbolic dims of the PaddleOCR models: one image of 320×256 (detector), 48×192 (classifier, fixed).</summary>
    private static long? ImageSize(string symbol) => symbol switch
    {
        "p2o.DynamicDimension.1" => 320,
        "p2o.DynamicDimension.2" => 256,
        _ => 1,
    };

    /// <summary>Both models at level 0 on the same deterministic inputs: equal within rtol 1e-6 (the ops are the same, so in fact bit for bit).</summary>
    private static void AssertSameOutputs(Model unfused, Model fused, long batch) => AssertSameOutputs(unfused, fused, _ => batch);

    private static void AssertSameOutputs(Model unfused, Model fused, Func<string, long?> dims)
    {
        using var a = LoomSession.Create(unfused, new LoomSessionOptions { OptimizationLevel = 0 });
        using var b = LoomSession.Create(fused, new LoomSessionOptions { OptimizationLevel = 0, VerifyInferredShapes = true });
        var feeds = a.Inputs.ToDictionary(i => i.Name, i => (LoomValue)Signed(ConformanceRunner.DeterministicInput(i, dims)));
        using var ra = a.Run(feeds);
        using var rb = b.Run(feeds);
        foreach (var o in a.Outputs)
        {
            var ya = ra.Tensor(o.Name).ToArray<float>();
            var yb = rb.Tensor(o.Name).ToArray<float>();
            Assert.Equal(ya.Length, yb.Length);
            for (int i = 0; i < ya.Length; i++)
                Assert.True(Math.Abs(ya[i] - yb[i]) <= 1e-6 * Math.Abs(ya[i]) || ya[i].Equals(yb[i]), $"{o.Name}[{i}]: unfused {ya[i]}, fused {yb[i]}");
        }
    }

    /// <summary>The deterministic input i/n spread over [-3, 3), so signs and clip bounds matter.</summary>
    private static Tensor Signed(LoomValue v)
    {
        var t = (Tensor)v;
        var data = t.ToArray<float>().Select(x => x * 6 - 3).ToArray();
        return Tensor.FromArray(data, t.Shape.ToArray());
    }
}
