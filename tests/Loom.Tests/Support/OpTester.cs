using Loom.Import.Onnx;
using Loom.IR;

namespace Loom.Tests.Support;

/// <summary>
/// Runs one operator on given inputs the way a user's model would: builds a one-node model in code,
/// saves it with Loom's ONNX writer, loads the bytes back and runs them (with shape verification on).
/// Unit tests compare its outputs with hand-computed values.
/// </summary>
public static class OpTester
{
    public static Tensor[] Run(string opType, IEnumerable<IR.Attribute>? attributes, params Tensor?[] inputs) =>
        Run(opType, attributes, outputCount: 1, opset: 21, domain: "", inputs);

    public static Tensor[] Run(string opType, IEnumerable<IR.Attribute>? attributes, int outputCount, int opset, string domain, params Tensor?[] inputs)
    {
        var model = BuildModel(opType, attributes, outputCount, opset, domain, inputs);
        var bytes = OnnxExporter.ToBytes(model);
        using var session = LoomSession.Load(bytes, new LoomSessionOptions { VerifyInferredShapes = true });
        var feeds = new Dictionary<string, LoomValue>();
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is { } t) feeds[$"in{i}"] = t;
        using var result = session.Run(feeds);
        return result.Select(r => (Tensor)r.Value).ToArray();
    }

    public static Model BuildModel(string opType, IEnumerable<IR.Attribute>? attributes, int outputCount, int opset, string domain, params Tensor?[] inputs)
    {
        var inputNames = inputs.Select((t, i) => t is null ? "" : $"in{i}").ToList();
        var outputNames = Enumerable.Range(0, outputCount).Select(i => $"out{i}").ToList();
        var node = new Node(opType, inputNames, outputNames, attributes, "op", domain);
        var graph = new Graph("test",
            inputs.Select((t, i) => t is null ? null : new ValueInfo($"in{i}", t.Type)).Where(v => v is not null)!,
            outputNames.Select(o => new ValueInfo(o, null)),
            [node]);
        var opsets = new Dictionary<string, int> { [""] = domain.Length == 0 ? opset : 21 };
        if (domain.Length > 0) opsets[domain] = opset;
        return new Model(graph, opsets, irVersion: 10);
    }

    public static Tensor F(float[] data, params int[] shape) => Tensor.FromArray(data, shape);
    public static Tensor L(long[] data, params int[] shape) => Tensor.FromArray(data, shape);

    public static void AssertClose(float[] expected, Tensor actual, float tol = 1e-5f)
    {
        var a = actual.ToArray<float>();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(expected[i] - a[i]) <= tol * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {a[i]}");
    }
}
