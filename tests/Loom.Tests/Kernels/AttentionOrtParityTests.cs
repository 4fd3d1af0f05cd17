using Loom.Import.Onnx;
using Loom.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Attr = Loom.IR.Attribute;
using static Loom.Tests.Support.OrtTensors;

namespace Loom.Tests.Kernels;

/// <summary>
/// Runs a model in both Loom and ONNX Runtime (the reference Loom must agree with) and compares every
/// output. Used by the parity tests of the attention, rotary and recurrent kernels.
/// </summary>
internal static class OrtParity
{
    public const double Rtol = 1e-4, Atol = 1e-5;

    /// <summary>Fails with every differing output when Loom and ONNX Runtime disagree on <paramref name="model"/>.</summary>
    public static void AssertSame(byte[] model, IReadOnlyDictionary<string, Tensor> feeds, double rtol = Rtol, double atol = Atol)
    {
        using var loom = LoomSession.Load(model, new LoomSessionOptions { VerifyInferredShapes = true });
        using var loomResult = loom.Run(feeds.ToDictionary(kv => kv.Key, kv => (LoomValue)kv.Value));
        var ort = RunOrt(model, feeds, loomResult.Select(r => r.Name).ToArray());
        var why = new List<string>();
        for (int i = 0; i < ort.Length; i++)
            if (Loom.Conformance.ValueComparer.CompareTensors((Tensor)loomResult[i].Value, ort[i], rtol, atol) is { } w)
                why.Add($"{loomResult[i].Name}: {w}");
        Assert.True(why.Count == 0, "Loom differs from ONNX Runtime: " + string.Join("; ", why));
    }

    public static Tensor[] RunOrt(byte[] model, IReadOnlyDictionary<string, Tensor> feeds, string[] outputs)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(model, options);
        var inputs = feeds.ToDictionary(kv => kv.Key, kv => ToOrt(kv.Value));
        try
        {
            using var run = new RunOptions();
            using var results = session.Run(run, inputs, outputs);
            return results.Select(FromOrt).ToArray();
        }
        finally
        {
            foreach (var v in inputs.Values) v.Dispose();
        }
    }

    /// <summary>The stored inputs of a conformance case, by the model's input names.</summary>
    public static (byte[] Model, Dictionary<string, Tensor> Feeds) ConformanceCase(string name)
    {
        var dir = SharedData.Require("onnx-backend-tests", "node", name);
        var model = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
        using var session = LoomSession.Load(model);
        var feeds = new Dictionary<string, Tensor>();
        for (int i = 0; i < session.Inputs.Length; i++)
            feeds[session.Inputs[i].Name] = (Tensor)ValueProtos.ReadFile(Path.Combine(dir, "test_data_set_0", $"input_{i}.pb"), null);
        return (model, feeds);
    }

    /// <summary>A one-node model (inputs named in0, in1, … as <see cref="OpTester"/> builds it) and its feeds.</summary>
    public static (byte[] Model, Dictionary<string, Tensor> Feeds) OneNode(string op, Attr[] attrs, int outputs, int opset, params Tensor?[] inputs)
    {
        var model = OnnxExporter.ToBytes(OpTester.BuildModel(op, attrs, outputs, opset, "", inputs));
        var feeds = new Dictionary<string, Tensor>();
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is { } t) feeds[$"in{i}"] = t;
        return (model, feeds);
    }

    public static Tensor Random(Random rng, params int[] shape)
    {
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return Tensor.FromArray(data, shape);
    }
}

/// <summary>
/// Loom's Attention gives ONNX Runtime's answers: on every stored conformance case (including the ones
/// whose ONNX 1.18.0 expected outputs predate upstream fixes) and on configurations the data lacks.
/// </summary>
public sealed class AttentionOrtParityTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        var dir = SharedData.Path_("onnx-backend-tests", "node");
        if (!Directory.Exists(dir)) { data.Add("test_attention_4d"); return data; }
        foreach (var d in Directory.GetDirectories(dir, "test_attention_*").Where(d => !d.EndsWith("_expanded")).Order())
            data.Add(Path.GetFileName(d));
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void ConformanceInputs(string name)
    {
        var (model, feeds) = OrtParity.ConformanceCase(name);
        OrtParity.AssertSame(model, feeds);
    }

    private static void Check(Attr[] attrs, int outputs, params Tensor?[] inputs)
    {
        var (model, feeds) = OrtParity.OneNode("Attention", attrs, outputs, 23, inputs);
        OrtParity.AssertSame(model, feeds);
    }

    [Fact]
    public void CausalWithPastAndGroupedHeads3D()
    {
        var rng = new Random(1);
        Check([Attr.Int("is_causal", 1), Attr.Int("q_num_heads", 4), Attr.Int("kv_num_heads", 2)], 4,
            OrtParity.Random(rng, 2, 3, 32), OrtParity.Random(rng, 2, 3, 16), OrtParity.Random(rng, 2, 3, 20), null,
            OrtParity.Random(rng, 2, 2, 5, 8), OrtParity.Random(rng, 2, 2, 5, 10));
    }

    [Fact]
    public void BoolMaskCombinedWithCausal()
    {
        var rng = new Random(2);
        var mask = new bool[2 * 1 * 4 * 6];
        for (int i = 0; i < mask.Length; i++) mask[i] = i % 7 != 3;
        Check([Attr.Int("is_causal", 1), Attr.Int("qk_matmul_output_mode", 3)], 4,
            OrtParity.Random(rng, 2, 3, 4, 8), OrtParity.Random(rng, 2, 3, 6, 8), OrtParity.Random(rng, 2, 3, 6, 8),
            Tensor.FromArray(mask, 2, 1, 4, 6));
    }

    [Fact]
    public void FourDMaskWithSoftcapAndQkModes()
    {
        var rng = new Random(3);
        foreach (var mode in new[] { 0, 1, 2, 3 })
            Check([Attr.Float("softcap", 1.5f), Attr.Float("scale", 0.3f), Attr.Int("qk_matmul_output_mode", mode)], 4,
                OrtParity.Random(rng, 1, 4, 3, 8), OrtParity.Random(rng, 1, 2, 5, 8), OrtParity.Random(rng, 1, 2, 5, 8),
                OrtParity.Random(rng, 1, 4, 3, 5));
    }

    [Fact]
    public void Float16()
    {
        var rng = new Random(4);
        Tensor Half(params int[] shape) => Tensor.FromArray(OrtParity.Random(rng, shape).ToArray<float>().Select(f => (Half)f).ToArray(), shape);
        var (model, feeds) = OrtParity.OneNode("Attention", [Attr.Int("is_causal", 1)], 3, 23,
            Half(1, 2, 4, 8), Half(1, 2, 4, 8), Half(1, 2, 4, 8), null, Half(1, 2, 2, 8), Half(1, 2, 2, 8));
        OrtParity.AssertSame(model, feeds, rtol: 2e-3, atol: 2e-3);
    }
}
