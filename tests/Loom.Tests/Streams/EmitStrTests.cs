using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Models.Emit;
using Loom.Streams.Syntax;
using Loom.Tests.Support;

namespace Loom.Tests.StreamTests;

/// <summary>
/// <c>loom stream MODEL.onnx --emit-str</c>: the StreamIt program it writes, compiled and run by Loom's own StreamIt
/// compiler, prints ONNX Runtime's outputs (rtol 1e-3; the program prints floats as %f, six decimals, hence the
/// small absolute allowance).
/// </summary>
public class EmitStrTests
{
    private static string[] RunProgram(string source, int items, int lines)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = StreamProgram.Compile([new SourceFile("emitted.str", source)], new Printer(sw, lines));
        p.Run(1, items);
        return sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static void AssertSameOutputs(StrEmitResult r, byte[] reference, int items)
    {
        int size = r.InputShape.Aggregate(1, (a, b) => a * b), outSize = r.Outputs.Sum(o => o.Shape.Aggregate(1, (a, b) => a * b));
        var lines = RunProgram(r.Source, items, items * outSize);
        Assert.Equal(items * outSize, lines.Length);
        var inputs = StrRandom.Inputs(1, items, size);
        for (int k = 0; k < items; k++)
        {
            var ort = OrtOracle.Run(reference, new Dictionary<string, Tensor> { [r.Input] = Tensor.FromArray(inputs[k], r.InputShape) });
            int at = k * outSize;
            foreach (var (name, _) in r.Outputs)
                foreach (var expected in ort[name].Data)
                {
                    float actual = float.Parse(lines[at], CultureInfo.InvariantCulture);
                    Assert.True(Math.Abs(actual - expected) <= 1e-3 * Math.Abs(expected) + 1e-6,
                        $"item {k}, output {name}, line {at + 1}: the program printed {lines[at]}, ONNX Runtime gives {expected}");
                    at++;
                }
        }
    }

    [Fact]
    public void SqueezeNetWithRandomWeightsRoundTrips()
    {
        var path = SharedData.Require("onnx-backend-tests", "light", "light_squeezenet.onnx");
        var r = StrEmitter.Emit(path, new StrEmitOptions { RandomWeightSeed = 5 });
        // Fire modules: the squeeze output feeds both expands, so they sit in duplicate split-joins, concatenated.
        Assert.Contains("split duplicate", r.Source);
        Assert.True(r.Source.Length < 100_000, $"the program should compute its random weights, not spell them out ({r.Source.Length} chars)");
        // The reference runs the same graph with the same weights: the model Loom optimized, weights substituted.
        AssertSameOutputs(r, Loom.Import.Onnx.OnnxExporter.ToBytes(r.Model), items: 1);
    }

    [Fact]
    public void PaddleOcrClassifierRoundTrips()
    {
        var path = SharedData.Require("models", "ch_ppocr_mobile_v2.0_cls_infer.onnx");
        var dims = new Dictionary<string, long> { ["p2o.DynamicDimension.0"] = 1, ["p2o.DynamicDimension.1"] = 48, ["p2o.DynamicDimension.2"] = 192 };
        var r = StrEmitter.Emit(path, new StrEmitOptions { Dims = dims });
        // Its real weights, as literals; the reference is the original model file.
        AssertSameOutputs(r, File.ReadAllBytes(path), items: 2);
    }

    [Fact]
    public void HandBuiltGraphWithBranchesAndResidualRoundTrips()
    {
        // x -> Conv 3x3 pad 1 -> Relu -> { MaxPool, AveragePool } -> Concat -> Mul by channel -> + itself (residual)
        // -> GlobalAveragePool -> Flatten -> Gemm (transB) -> Softmax: every work-code path but MatMul and BatchNorm.
        var rng = new Random(3);
        Tensor T(params int[] shape) => Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), shape);
        var inits = new Dictionary<string, Tensor> { ["w"] = T(3, 2, 3, 3), ["b"] = T(3), ["s"] = T(1, 6, 1, 1), ["w2"] = T(4, 6), ["c2"] = T(4) };
        IR.Attribute Ints(string n, params long[] v) => IR.Attribute.Ints(n, v);
        var nodes = new IR.Node[]
        {
            new("Conv", ["x", "w", "b"], ["y"], [Ints("pads", 1, 1, 1, 1), Ints("kernel_shape", 3, 3)]),
            new("Relu", ["y"], ["r"]),
            new("MaxPool", ["r"], ["p"], [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)]),
            new("AveragePool", ["r"], ["a"], [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0)]),
            new("Concat", ["p", "a"], ["c"], [IR.Attribute.Int("axis", 1)]),
            new("Mul", ["c", "s"], ["m"]),
            new("Add", ["m", "c"], ["res"]),
            new("GlobalAveragePool", ["res"], ["g"]),
            new("Flatten", ["g"], ["f"]),
            new("Gemm", ["f", "w2", "c2"], ["o"], [IR.Attribute.Int("transB", 1)]),
            new("Softmax", ["o"], ["out"], [IR.Attribute.Int("axis", 1)]),
        };
        var f32 = (int[] d) => new IR.TensorType(DataType.Float, IR.Shape.Of(d));
        var graph = new IR.Graph("hand", [new IR.ValueInfo("x", f32([1, 2, 4, 4]))], [new IR.ValueInfo("out", f32([1, 4]))], nodes, inits);
        var model = new IR.Model(graph, new Dictionary<string, int> { [""] = 13 });
        var r = StrEmitter.Emit(model, "hand");
        // The Relu output feeds both pools: a duplicate split-join keeps it beside MaxPool's result.
        Assert.Contains("split duplicate", r.Source);
        AssertSameOutputs(r, Loom.Import.Onnx.OnnxExporter.ToBytes(model), items: 3);
    }

    [Fact]
    public void UnsupportedOperatorNamesTheNode()
    {
        var f32 = (int[] d) => new IR.TensorType(DataType.Float, IR.Shape.Of(d));
        var graph = new IR.Graph("hand", [new IR.ValueInfo("x", f32([1, 4]))], [new IR.ValueInfo("y", f32([1, 4]))],
            [new IR.Node("Erf", ["x"], ["y"], name: "the_erf")]);
        var e = Assert.Throws<InputException>(() => StrEmitter.Emit(new IR.Model(graph, new Dictionary<string, int> { [""] = 13 }), "hand"));
        Assert.Contains("the_erf", e.Message);
        Assert.Contains("Erf", e.Message);
    }

    [Fact]
    public void MissingDimensionIsAnInputErrorNamingIt()
    {
        var path = SharedData.Require("models", "ch_ppocr_mobile_v2.0_cls_infer.onnx");
        var e = Assert.Throws<InputException>(() => StrEmitter.Emit(path));
        Assert.Contains("p2o.DynamicDimension", e.Message);
    }
}
