using Loom.Import.Onnx;
using Loom.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Loom.Tests.Support.OrtTensors;

namespace Loom.Tests.Kernels;

/// <summary>
/// Runs one operator in Loom and in ONNX Runtime on the same inputs and requires identical outputs
/// (data movement is exact, so no tolerance). Used with random shapes to cover more than hand cases.
/// </summary>
internal static class ShapeOrtCheck
{
    public static void Same(string opType, IEnumerable<IR.Attribute>? attributes, int outputCount, int opset, params Tensor?[] inputs)
    {
        var model = OpTester.BuildModel(opType, attributes, outputCount, opset, "", inputs);
        var bytes = OnnxExporter.ToBytes(model);
        var expected = RunOrt(bytes, inputs);
        var actual = OpTester.Run(opType, attributes, outputCount, opset, "", inputs);
        string what = $"{opType}({string.Join(", ", inputs.Select(Describe))}) {string.Join(" ", attributes ?? [])}";
        for (int i = 0; i < outputCount; i++)
        {
            Assert.True(expected[i].Shape.SequenceEqual(actual[i].Shape), $"{what}: output {i} shape {ShapeMath.Format(actual[i].Shape)}, ORT {ShapeMath.Format(expected[i].Shape)}");
            Assert.Equal(expected[i].DataType, actual[i].DataType);
            for (int k = 0; k < expected[i].Length; k++)
                Assert.True(expected[i].GetDouble(k).Equals(actual[i].GetDouble(k)), $"{what}: output {i} element {k} is {actual[i].GetDouble(k)}, ORT {expected[i].GetDouble(k)}");
        }
    }

    private static string Describe(Tensor? t) => t is null ? "-"
        : t.DataType == DataType.Int64 && t.Length <= 16 ? "[" + string.Join(",", t.ToArray<long>()) + "]"
        : ShapeMath.Format(t.Shape);

    private static Tensor[] RunOrt(byte[] model, Tensor?[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                if (inputs[i] is not { } t) continue;
                names.Add($"in{i}");
                values.Add(ToOrt(t));
            }
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, names, values, session.OutputNames);
            return outputs.Select(FromOrt).ToArray();
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Distinct small integers as floats (exact comparisons, and every element recognisable).</summary>
    public static Tensor Iota(params int[] shape)
    {
        var data = new float[ShapeMath.Size(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = i + 1;
        return Tensor.FromArray(data, shape);
    }

    public static int[] RandomShape(Random rng, int rank, int maxDim = 4)
    {
        var s = new int[rank];
        for (int d = 0; d < rank; d++) s[d] = rng.Next(1, maxDim + 1);
        return s;
    }
}
