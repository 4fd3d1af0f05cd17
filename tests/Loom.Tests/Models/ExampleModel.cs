using Loom.IR;

namespace Loom.Tests.Models;

/// <summary>
/// The bundled example <c>examples/tiny-cnn.onnx</c>: a small image classifier (two Conv-Relu-MaxPool
/// stages, Flatten, Gemm, Softmax) with a symbolic <c>batch</c> dim and fixed pseudo-random weights,
/// built with Loom's IR and written by Loom's ONNX writer.
/// </summary>
public static class ExampleModel
{
    public static Model TinyCnn()
    {
        var rng = new Random(7);
        Tensor W(int fanIn, params int[] shape)
        {
            double scale = Math.Sqrt(2.0 / fanIn);
            var data = new float[ShapeMath.Size(shape)];
            for (int i = 0; i < data.Length; i++) data[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
            return Tensor.FromArray(data, shape);
        }
        var inits = new Dictionary<string, Tensor>
        {
            ["conv1.w"] = W(9, 8, 1, 3, 3), ["conv1.b"] = W(9, 8),
            ["conv2.w"] = W(72, 16, 8, 3, 3), ["conv2.b"] = W(72, 16),
            ["fc.w"] = W(784, 10, 16 * 7 * 7), ["fc.b"] = W(784, 10),
        };

        IR.Attribute[] Conv() => [IR.Attribute.Ints("kernel_shape", [3, 3]), IR.Attribute.Ints("pads", [1, 1, 1, 1])];
        IR.Attribute[] Pool() => [IR.Attribute.Ints("kernel_shape", [2, 2]), IR.Attribute.Ints("strides", [2, 2])];
        var nodes = new[]
        {
            new Node("Conv", ["image", "conv1.w", "conv1.b"], ["c1"], Conv(), "conv1"),
            new Node("Relu", ["c1"], ["r1"], name: "relu1"),
            new Node("MaxPool", ["r1"], ["p1"], Pool(), "pool1"),
            new Node("Conv", ["p1", "conv2.w", "conv2.b"], ["c2"], Conv(), "conv2"),
            new Node("Relu", ["c2"], ["r2"], name: "relu2"),
            new Node("MaxPool", ["r2"], ["p2"], Pool(), "pool2"),
            new Node("Flatten", ["p2"], ["flat"], [IR.Attribute.Int("axis", 1)], "flatten"),
            new Node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], [IR.Attribute.Int("transB", 1)], "fc"),
            new Node("Softmax", ["logits"], ["probabilities"], [IR.Attribute.Int("axis", 1)], "softmax"),
        };
        var batch = Dim.Symbol("batch");
        var graph = new Graph("tiny_cnn",
            [new ValueInfo("image", new TensorType(DataType.Float, new Shape([batch, Dim.Of(1), Dim.Of(28), Dim.Of(28)])))],
            [new ValueInfo("probabilities", new TensorType(DataType.Float, new Shape([batch, Dim.Of(10)])))],
            nodes, inits);
        return new Model(graph, new Dictionary<string, int> { [""] = 17 }, irVersion: 8, producerName: "loom-example",
            docString: "A small CNN classifier for 28x28 grayscale images, for trying Loom.");
    }
}
