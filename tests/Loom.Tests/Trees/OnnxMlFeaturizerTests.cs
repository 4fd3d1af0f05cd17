using Loom.Import.Onnx;
using Loom.IR;
using Microsoft.ML.OnnxRuntime;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Trees;

/// <summary>The ai.onnx.ml featurizers and linear models, each as a one-node model run by Loom and by ONNX Runtime.</summary>
public class OnnxMlFeaturizerTests
{
    private static byte[] Model(string op, Attr[] attrs, (string Name, Tensor Value)[] inputs, int outputs)
    {
        var node = new Node(op, inputs.Select(i => i.Name), Enumerable.Range(0, outputs).Select(o => $"y{o}"), attrs, "op", "ai.onnx.ml");
        var graph = new Graph("g", inputs.Select(i => new ValueInfo(i.Name, i.Value.Type)), Enumerable.Range(0, outputs).Select(o => new ValueInfo($"y{o}", null)), [node]);
        return OnnxExporter.ToBytes(new Model(graph, new Dictionary<string, int> { [""] = 13, ["ai.onnx.ml"] = 3 }, irVersion: 8));
    }

    private static OrtValue ToOrt(Tensor t)
    {
        long[] shape = t.Shape.ToArray().Select(d => (long)d).ToArray();
        return t.DataType == DataType.String ? OrtValue.CreateFromStringTensor(CreateStringTensor(t, shape)) : Support.OrtTensors.ToOrt(t);
    }

    private static Microsoft.ML.OnnxRuntime.Tensors.Tensor<string> CreateStringTensor(Tensor t, long[] shape) =>
        new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<string>(t.ToArray<string>(), shape.Select(d => (int)d).ToArray());

    /// <summary>Runs both and compares every output (floats within 1e-5 relative, others exactly).</summary>
    private static void Same(string op, Attr[] attrs, int outputs, params (string Name, Tensor Value)[] inputs)
    {
        var bytes = Model(op, attrs, inputs, outputs);
        using var session = new InferenceSession(bytes);
        var values = inputs.Select(i => ToOrt(i.Value)).ToArray();
        using var runOptions = new RunOptions();
        using var ort = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, session.OutputNames);
        using var loom = LoomSession.Load(bytes, new LoomSessionOptions { VerifyInferredShapes = true });
        using var result = loom.Run(inputs.ToDictionary(i => i.Name, i => (LoomValue)i.Value));
        for (int o = 0; o < outputs; o++)
        {
            var mine = (Tensor)result[o].Value;
            var theirs = ort[o];
            Assert.Equal(theirs.GetTensorTypeAndShape().Shape, mine.Shape.ToArray().Select(d => (long)d).ToArray());
            switch (mine.DataType)
            {
                case DataType.Float:
                    TreeTestData.AssertMatches(theirs.GetTensorDataAsSpan<float>().ToArray().Select(v => (double)v).ToArray(), mine.ToArray<float>(), $"{op} output {o}");
                    break;
                case DataType.Int64: Assert.Equal(theirs.GetTensorDataAsSpan<long>().ToArray(), mine.ToArray<long>()); break;
                case DataType.String: Assert.Equal(theirs.GetStringTensorAsArray(), mine.ToArray<string>()); break;
                default: Assert.Fail($"unexpected {mine.DataType.Name()}"); break;
            }
        }
        foreach (var v in values) v.Dispose();
    }

    private static Tensor X => Tensor.FromArray(new[] { 1f, -2, 3, 0, 0, 0, -4, 5.5f, float.NaN, 2, 2, -7 }, 4, 3);

    [Fact]
    public void Scaler() => Same("Scaler", [Attr.Floats("offset", [1, 2, -1]), Attr.Floats("scale", [0.5f, 2, 3])], 1, ("x", X));

    [Fact]
    public void Scaler_broadcasts_one_value() => Same("Scaler", [Attr.Floats("offset", [1]), Attr.Floats("scale", [0.5f])], 1, ("x", X));

    [Theory]
    [InlineData("MAX")]
    [InlineData("L1")]
    [InlineData("L2")]
    public void Normalizer(string norm) =>
        Same("Normalizer", [Attr.String("norm", norm)], 1, ("x", Tensor.FromArray(new[] { 1f, -2, 3, 0, 0, 0, -4, 5.5f, 1, 2, 2, -7 }, 4, 3)));

    [Fact]
    public void Imputer_floats()
    {
        Same("Imputer", [Attr.Floats("imputed_value_floats", [9, 8, 7])], 1, ("x", X));
        Same("Imputer", [Attr.Floats("imputed_value_floats", [9]), Attr.Float("replaced_value_float", float.NaN)], 1, ("x", X));
    }

    [Fact]
    public void Imputer_int64_replaced_value() =>
        Same("Imputer", [Attr.Ints("imputed_value_int64s", [5]), Attr.Int("replaced_value_int64", -1)], 1, ("x", Tensor.FromArray(new long[] { 1, -1, 3, -1 }, 2, 2)));

    [Fact]
    public void OneHotEncoder_ints_and_strings()
    {
        Same("OneHotEncoder", [Attr.Ints("cats_int64s", [1, 3, 5])], 1, ("x", Tensor.FromArray(new long[] { 1, 5, 2, 3 }, 2, 2)));
        Same("OneHotEncoder", [Attr.Strings("cats_strings", ["a", "b"])], 1, ("x", Tensor.FromArray(new[] { "b", "z", "a" }, 3)));
    }

    [Fact]
    public void FeatureVectorizer_cuts_and_pads() =>
        Same("FeatureVectorizer", [Attr.Ints("inputdimensions", [2, 3])], 1,
            ("a", Tensor.FromArray(new[] { 1f, 2, 3, 4, 5, 6 }, 2, 3)), ("b", Tensor.FromArray(new[] { 7f, 8 }, 2, 1)));

    [Theory]
    [InlineData("NONE", 1)]
    [InlineData("NONE", 2)]
    [InlineData("SOFTMAX", 3)]
    [InlineData("LOGISTIC", 2)]
    public void LinearRegressor(string post, int targets) =>
        Same("LinearRegressor", [Attr.Floats("coefficients", Enumerable.Range(0, 3 * targets).Select(i => 0.1f * i - 0.3f)),
            Attr.Floats("intercepts", Enumerable.Range(0, targets).Select(i => 0.5f * i)), Attr.Int("targets", targets), Attr.String("post_transform", post)], 1,
            ("x", Tensor.FromArray(new[] { 1f, -2, 3, 0, 0, 0, -4, 5.5f, 1, 2, 2, -7 }, 4, 3)));

    [Theory]
    [InlineData("NONE", 3, 3)]
    [InlineData("SOFTMAX", 3, 3)]
    [InlineData("LOGISTIC", 3, 3)]
    [InlineData("NONE", 1, 2)]
    public void LinearClassifier(string post, int scores, int labels) =>
        Same("LinearClassifier", [Attr.Floats("coefficients", Enumerable.Range(0, 3 * scores).Select(i => 0.1f * i - 0.3f)),
            Attr.Floats("intercepts", Enumerable.Range(0, scores).Select(i => 0.5f * i - 0.2f)), Attr.Ints("classlabels_ints", Enumerable.Range(0, labels).Select(i => (long)(i + 7))),
            Attr.String("post_transform", post)], 2,
            ("x", Tensor.FromArray(new[] { 1f, -2, 3, 0, 0, 0, -4, 5.5f, 1, 2, 2, -7 }, 4, 3)));

    [Fact]
    public void LinearClassifier_string_labels() =>
        Same("LinearClassifier", [Attr.Floats("coefficients", [0.5f, -1, 2]), Attr.Floats("intercepts", [0.1f]), Attr.Strings("classlabels_strings", ["no", "yes"])], 2,
            ("x", Tensor.FromArray(new[] { 1f, -2, 3, 0, 0, 0, -4, 5.5f, 1, 2, 2, -7 }, 4, 3)));
}
