using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.Inference;
using Loom.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using A = Loom.IR.Attribute;
using static Loom.Tests.Support.OrtTensors;

namespace Loom.Tests.Kernels;

/// <summary>
/// Runs the reduction, normalization, softmax and loss kernels and ONNX Runtime on the same random
/// inputs over a sweep of attributes, opsets and dtypes, and requires the same answers (exact for
/// integers). Combinations ONNX Runtime does not implement are skipped.
/// </summary>
public sealed class ReduceOrtComparisonTests
{
    public sealed record Case(string Name, string Op, A[] Attributes, int Opset, int Outputs, Func<Tensor?[]> Inputs)
    {
        public override string ToString() => Name;
    }

    private static readonly Dictionary<string, Case> Cases = BuildCases().Concat(EdgeCases()).ToDictionary(c => c.Name);

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory, MemberData(nameof(Names))]
    public void MatchesOnnxRuntime(string name)
    {
        var c = Cases[name];
        var inputs = c.Inputs();
        var expected = ReduceOrtRunner.TryRun(c.Op, c.Attributes, c.Outputs, c.Opset, inputs, out var why);
        if (expected is null) Assert.Skip($"ONNX Runtime cannot run it: {why}");
        var actual = OpTester.Run(c.Op, c.Attributes, c.Outputs, c.Opset, "", inputs);
        for (int i = 0; i < c.Outputs; i++)
        {
            // float16 results may differ by an ulp (ONNX Runtime rounds from float, Loom from double).
            double rtol = expected[i].DataType == DataType.Float16 ? 1e-3 : 1e-4;
            var diff = ValueComparer.CompareTensors(actual[i], expected[i], rtol, atol: 1e-5);
            Assert.True(diff is null, $"output {i}: {diff}");
        }
    }

    private static IEnumerable<Case> BuildCases()
    {
        int[] shape = [3, 4, 5];
        long[][] axesSets = [[], [0], [-1], [0, 2], [1, 2]];
        string[] reduceOps = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"];
        foreach (var op in reduceOps)
            foreach (var dt in new[] { DataType.Float, DataType.Double, DataType.Int32, DataType.Int64 })
                foreach (var axes in axesSets)
                    foreach (int keep in new[] { 0, 1 })
                    {
                        bool positive = op is "ReduceLogSum" or "ReduceProd"; // keep logs finite and products small
                        var axesCopy = axes;
                        yield return new($"{op}_{dt}_axes[{string.Join(",", axes)}]_keep{keep}", op, [A.Int("keepdims", keep)], 18, 1,
                            () => [Random(dt, shape, seed: 1, positive), axesCopy.Length == 0 ? null : OpTester.L(axesCopy, axesCopy.Length)]);
                    }
        yield return new("ReduceSum_noop", "ReduceSum", [A.Int("noop_with_empty_axes", 1)], 13, 1, () => [Random(DataType.Float, shape, 2), OpTester.L([], 0)]);
        yield return new("ReduceMean_attr_opset11", "ReduceMean", [A.Ints("axes", [0, -1]), A.Int("keepdims", 0)], 11, 1, () => [Random(DataType.Float, shape, 3)]);

        foreach (var op in new[] { "Softmax", "LogSoftmax", "Hardmax" })
            foreach (int opset in new[] { 11, 13 })
                foreach (long axis in new long[] { 0, 1, -1 })
                    foreach (var dt in new[] { DataType.Float, DataType.Double })
                        yield return new($"{op}_opset{opset}_axis{axis}_{dt}", op, [A.Int("axis", axis)], opset, 1, () => [Random(dt, shape, 4, small: op == "Hardmax")]);

        foreach (var op in new[] { "ArgMax", "ArgMin" })
            foreach (var dt in new[] { DataType.Float, DataType.Int32, DataType.Int64 })
                foreach (long axis in new long[] { 0, -1 })
                    foreach (int last in new[] { 0, 1 })
                        yield return new($"{op}_{dt}_axis{axis}_last{last}", op, [A.Int("axis", axis), A.Int("select_last_index", last), A.Int("keepdims", last)], 13, 1,
                            () => [Random(dt, shape, 5, small: true)]);

        foreach (var dt in new[] { DataType.Float, DataType.Int64, DataType.Int32 })
            foreach (long axis in new long[] { 1, -1 })
                foreach (int largest in new[] { 0, 1 })
                    yield return new($"TopK_{dt}_axis{axis}_largest{largest}", "TopK", [A.Int("axis", axis), A.Int("largest", largest)], 11, 2,
                        () => [Random(dt, shape, 6, small: true), OpTester.L([3], 1)]);

        foreach (var dt in new[] { DataType.Float, DataType.Double, DataType.Int32, DataType.Int64 })
            foreach (int exclusive in new[] { 0, 1 })
                foreach (int reverse in new[] { 0, 1 })
                    yield return new($"CumSum_{dt}_ex{exclusive}_rev{reverse}", "CumSum", [A.Int("exclusive", exclusive), A.Int("reverse", reverse)], 14, 1,
                        () => [Random(dt, shape, 7), Tensor.Scalar(1L)]);

        foreach (long axis in new long[] { 0, 1, -1 })
            yield return new($"LayerNormalization_axis{axis}", "LayerNormalization", [A.Int("axis", axis)], 17, 3, () =>
            {
                var tail = shape[(int)(axis < 0 ? axis + 3 : axis)..];
                return [Random(DataType.Float, shape, 8), Random(DataType.Float, tail, 9), Random(DataType.Float, tail, 10)];
            });
        yield return new("RMSNormalization", "RMSNormalization", [A.Int("axis", 1)], 23, 1, () => [Random(DataType.Float, shape, 11), Random(DataType.Float, [4, 5], 12)]);
        yield return new("InstanceNormalization", "InstanceNormalization", [], 22, 1, () => [Random(DataType.Float, shape, 13), Random(DataType.Float, [4], 14), Random(DataType.Float, [4], 15)]);
        yield return new("GroupNormalization", "GroupNormalization", [A.Int("num_groups", 2)], 21, 1, () => [Random(DataType.Float, shape, 16), Random(DataType.Float, [4], 17), Random(DataType.Float, [4], 18)]);
        yield return new("BatchNormalization", "BatchNormalization", [], 15, 1, () =>
            [Random(DataType.Float, shape, 19), Random(DataType.Float, [4], 20), Random(DataType.Float, [4], 21), Random(DataType.Float, [4], 22), Random(DataType.Float, [4], 23, positive: true)]);
        yield return new("BatchNormalization_training", "BatchNormalization", [A.Int("training_mode", 1)], 15, 3, () =>
            [Random(DataType.Float, shape, 19), Random(DataType.Float, [4], 20), Random(DataType.Float, [4], 21), Random(DataType.Float, [4], 22), Random(DataType.Float, [4], 23, positive: true)]);
        yield return new("LRN", "LRN", [A.Int("size", 3), A.Float("alpha", 0.1f)], 13, 1, () => [Random(DataType.Float, [2, 5, 3, 3], 24)]);
        yield return new("MeanVarianceNormalization", "MeanVarianceNormalization", [], 13, 1, () => [Random(DataType.Float, [2, 3, 4, 5], 25)]);
        yield return new("Det", "Det", [], 11, 1, () => [Random(DataType.Float, [3, 4, 4], 26)]);

        foreach (var reduction in new[] { "none", "sum", "mean" })
            foreach (bool weighted in new[] { false, true })
                foreach (long? ii in new long?[] { null, 1 })
                {
                    var attrs = new List<A> { A.String("reduction", reduction) };
                    if (ii is { } v) attrs.Add(A.Int("ignore_index", v));
                    string tag = $"{reduction}_w{(weighted ? 1 : 0)}_ii{ii?.ToString() ?? "none"}";
                    Tensor?[] LossInputs() => [Random(DataType.Float, [3, 4, 2], 27), Labels([3, 2], 4, 28), weighted ? Random(DataType.Float, [4], 29, positive: true) : null];
                    yield return new($"NegativeLogLikelihoodLoss_{tag}", "NegativeLogLikelihoodLoss", attrs.ToArray(), 13, 1, LossInputs);
                    yield return new($"SoftmaxCrossEntropyLoss_{tag}", "SoftmaxCrossEntropyLoss", attrs.ToArray(), 13, 2, LossInputs);
                }
    }

    /// <summary>Empty tensors, scalars, float16, NaN and long rows.</summary>
    private static IEnumerable<Case> EdgeCases()
    {
        string[] reduceOps = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"];
        var empty = Tensor.FromArray(Array.Empty<float>(), 2, 0, 3);
        foreach (var op in reduceOps)
        {
            foreach (long axis in new long[] { 0, 1 })
                foreach (int keep in new[] { 0, 1 })
                    yield return new($"{op}_empty_axis{axis}_keep{keep}", op, [A.Int("keepdims", keep)], 18, 1, () => [empty, OpTester.L([axis], 1)]);
            yield return new($"{op}_scalar", op, [A.Int("keepdims", 0)], 18, 1, () => [Tensor.Scalar(1.5f)]);
            yield return new($"{op}_float16", op, [A.Int("keepdims", 0)], 18, 1, () => [Half16(Random(DataType.Float, [3, 4], 30, positive: true)), OpTester.L([1], 1)]);
            // ONNX Runtime's max/min skip a NaN unless it comes first (so do its ArgMax, ArgMin and TopK);
            // Loom propagates NaN as NumPy does (see ReduceTests), so those are not compared here.
            if (op is not ("ReduceMax" or "ReduceMin"))
                yield return new($"{op}_nan", op, [A.Int("keepdims", 0)], 18, 1, () => [OpTester.F([1, float.NaN, 3, 4, 5, 6], 2, 3), OpTester.L([1], 1)]);
        }
        foreach (var op in new[] { "Softmax", "LogSoftmax" })
        {
            yield return new($"{op}_float16", op, [], 13, 1, () => [Half16(Random(DataType.Float, [3, 4], 31))]);
            yield return new($"{op}_empty", op, [A.Int("axis", 0)], 13, 1, () => [Tensor.FromArray(Array.Empty<float>(), 0, 3)]);
            yield return new($"{op}_nan", op, [], 13, 1, () => [OpTester.F([1, float.NaN, 3, 4, 5, 6], 2, 3)]);
            yield return new($"{op}_infinity", op, [], 13, 1, () => [OpTester.F([1, float.PositiveInfinity, 3, float.NegativeInfinity, 5, 6], 2, 3)]);
        }
        yield return new("TopK_long_row", "TopK", [], 11, 2, () => [Random(DataType.Int64, [2, 1000], 32, small: true), OpTester.L([10], 1)]);
        yield return new("TopK_k0", "TopK", [], 11, 2, () => [Random(DataType.Float, [2, 5], 33), OpTester.L([0], 1)]);
        yield return new("CumSum_float16", "CumSum", [], 14, 1, () => [Half16(Random(DataType.Float, [3, 4], 34)), Tensor.Scalar(0L)]);
        yield return new("LayerNormalization_float16", "LayerNormalization", [], 17, 1, () => [Half16(Random(DataType.Float, [3, 8], 35)), Half16(Random(DataType.Float, [8], 36)), Half16(Random(DataType.Float, [8], 37))]);
        yield return new("LayerNormalization_no_bias", "LayerNormalization", [], 17, 1, () => [Random(DataType.Float, [3, 8], 35), Random(DataType.Float, [8], 36)]);
        yield return new("LayerNormalization_scalar_scale", "LayerNormalization", [A.Int("axis", 1)], 17, 1, () => [Random(DataType.Float, [3, 4, 2], 35), Random(DataType.Float, [1], 36)]);
        yield return new("Softmax_opset1", "Softmax", [], 1, 1, () => [Random(DataType.Float, [2, 3, 4], 38)]);
        yield return new("BatchNormalization_opset7", "BatchNormalization", [], 7, 1, () =>
            [Random(DataType.Float, [2, 4, 3], 19), Random(DataType.Float, [4], 20), Random(DataType.Float, [4], 21), Random(DataType.Float, [4], 22), Random(DataType.Float, [4], 23, positive: true)]);
        yield return new("BatchNormalization_opset9_training", "BatchNormalization", [], 9, 5, () =>
            [Random(DataType.Float, [2, 4, 3], 19), Random(DataType.Float, [4], 20), Random(DataType.Float, [4], 21), Random(DataType.Float, [4], 22), Random(DataType.Float, [4], 23, positive: true)]);
        yield return new("GroupNormalization_opset18", "GroupNormalization", [A.Int("num_groups", 2)], 18, 1, () => [Random(DataType.Float, [3, 4, 5], 16), Random(DataType.Float, [2], 17), Random(DataType.Float, [2], 18)]);
        yield return new("Det_singular", "Det", [], 11, 1, () => [OpTester.F([1, 2, 2, 4], 2, 2)]);
        yield return new("Det_double", "Det", [], 11, 1, () => [Random(DataType.Double, [2, 5, 5], 39)]);
    }

    private static Tensor Half16(Tensor t) => Tensor.FromArray(t.ToArray<float>().Select(v => (Half)v).ToArray(), t.Shape);

    private static Tensor Labels(int[] shape, int classes, int seed)
    {
        var rng = new Random(seed);
        var data = new long[ShapeMath.Size(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = rng.Next(classes);
        return Tensor.FromArray(data, shape);
    }

    /// <summary>Random values in [-3, 3] (positive: [0.5, 1.5]; small: integers in [-2, 2], so ties are common).</summary>
    private static Tensor Random(DataType dt, int[] shape, int seed, bool positive = false, bool small = false)
    {
        var rng = new Random(seed);
        int n = (int)ShapeMath.Size(shape);
        double Next() => small ? rng.Next(-2, 3) : positive ? 0.5 + rng.NextDouble() : rng.NextDouble() * 6 - 3;
        return dt switch
        {
            DataType.Float => Tensor.FromArray(Enumerable.Range(0, n).Select(_ => (float)Next()).ToArray(), shape),
            DataType.Double => Tensor.FromArray(Enumerable.Range(0, n).Select(_ => Next()).ToArray(), shape),
            DataType.Int32 => Tensor.FromArray(Enumerable.Range(0, n).Select(_ => (int)Math.Round(Next())).ToArray(), shape),
            DataType.Int64 => Tensor.FromArray(Enumerable.Range(0, n).Select(_ => (long)Math.Round(Next())).ToArray(), shape),
            _ => throw new ArgumentException($"no random {dt}"),
        };
    }
}

/// <summary>Runs a one-node model in ONNX Runtime (for the comparison tests above).</summary>
internal static class ReduceOrtRunner
{
    public static Tensor[]? TryRun(string op, IEnumerable<A> attributes, int outputCount, int opset, Tensor?[] inputs, out string? why)
    {
        // Loom's inference fills in the output types ONNX Runtime wants declared.
        var model = ShapeInference.Run(OpTester.BuildModel(op, attributes, outputCount, opset, "", inputs));
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            using var session = new InferenceSession(OnnxExporter.ToBytes(model));
            for (int i = 0; i < inputs.Length; i++)
                if (inputs[i] is { } t) { names.Add($"in{i}"); values.Add(ToOrt(t)); }
            var outputNames = Enumerable.Range(0, outputCount).Select(i => $"out{i}").ToList();
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, names, values, outputNames);
            why = null;
            return results.Select(FromOrt).ToArray();
        }
        catch (OnnxRuntimeException e)
        {
            why = e.Message;
            return null;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }
}
