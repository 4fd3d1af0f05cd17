using Microsoft.ML.OnnxRuntime;

namespace Loom.Tests.Support;

/// <summary>ONNX Runtime as the independent oracle: runs a model on float32 inputs and returns its float32 outputs.</summary>
public static class OrtOracle
{
    public static Dictionary<string, (float[] Data, int[] Shape)> Run(byte[] model, IReadOnlyDictionary<string, Tensor> inputs, int threads = 1)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var names = inputs.Keys.ToArray();
        var values = names.Select(n =>
        {
            var t = inputs[n];
            return OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.Shape.ToArray().Select(d => (long)d).ToArray());
        }).ToArray();
        try
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, names, values, session.OutputNames);
            var result = new Dictionary<string, (float[], int[])>();
            for (int i = 0; i < outputs.Count; i++)
            {
                var info = outputs[i].GetTensorTypeAndShape();
                result[session.OutputNames[i]] = (outputs[i].GetTensorDataAsSpan<float>().ToArray(), info.Shape.Select(d => (int)d).ToArray());
            }
            return result;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Asserts |loom - ort| &lt;= atol + rtol*|ort| elementwise, reporting the worst element.</summary>
    public static void AssertClose(float[] expected, int[] expectedShape, Tensor actual, double rtol, double atol, string what)
    {
        Assert.Equal(expectedShape, actual.Shape.ToArray());
        var a = actual.ToArray<float>();
        int bad = 0, worst = -1;
        double worstDiff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs(a[i] - expected[i]);
            if (!(d <= atol + rtol * Math.Abs(expected[i]))) { bad++; if (d > worstDiff || worst < 0) { worstDiff = d; worst = i; } }
        }
        Assert.True(bad == 0, $"{what}: {bad} of {a.Length} elements differ from ONNX Runtime; worst at {worst}: loom {(worst >= 0 ? a[worst] : 0)} vs ort {(worst >= 0 ? expected[worst] : 0)}");
    }

    public static Tensor RandomInput(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[ShapeMath.Size(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        return Tensor.FromArray(data, shape);
    }
}
