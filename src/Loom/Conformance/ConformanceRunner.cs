using System.Diagnostics;
using Loom.Import.Onnx;
using Loom.IR;

namespace Loom.Conformance;

public enum CaseStatus { Passed, Failed, Skipped }

/// <summary>The outcome of one conformance case.</summary>
public sealed record CaseResult(string Name, string Path, CaseStatus Status, string? Reason, IReadOnlyList<string> OpTypes, double LoadMilliseconds);

/// <summary>
/// Runs ONNX backend conformance cases: a folder with <c>model.onnx</c> and <c>test_data_set_N/</c>
/// (<c>input_K.pb</c>, <c>output_K.pb</c>), or a light model <c>light_NAME.onnx</c> with
/// <c>light_NAME_output_0.pb</c> whose input is the deterministic <c>x[i] = i/n</c>. Each model is
/// loaded with shape verification on, so a wrong shape inference fails the case too.
/// </summary>
public static class ConformanceRunner
{
    /// <summary>Operators Loom does not run, by design, and why; cases using them are skipped.</summary>
    public static readonly IReadOnlyDictionary<string, string> SkippedOperators = new Dictionary<string, string>
    {
        ["StringNormalizer"] = "string-only operator",
        ["StringConcat"] = "string-only operator",
        ["StringSplit"] = "string-only operator",
        ["RegexFullMatch"] = "string-only operator",
        ["Gradient"] = "training-only operator (ai.onnx.preview.training)",
        ["Adagrad"] = "training-only operator (ai.onnx.preview.training)",
        ["Adam"] = "training-only operator (ai.onnx.preview.training)",
        ["Momentum"] = "training-only operator (ai.onnx.preview.training)",
    };

    /// <summary>Every case below <paramref name="root"/> (itself, if it is one), in name order.</summary>
    public static IEnumerable<string> FindCases(string root)
    {
        if (File.Exists(root)) return [root];
        if (!Directory.Exists(root)) return [];
        if (File.Exists(Path.Combine(root, "model.onnx"))) return [root];
        var light = Directory.GetFiles(root, "light_*.onnx");
        var dirs = Directory.GetDirectories(root).SelectMany(FindCases);
        return light.Concat(dirs).OrderBy(p => p, StringComparer.Ordinal).ToList();
    }

    public static CaseResult Run(string casePath, TimeSpan? timeout = null)
    {
        bool light = casePath.EndsWith(".onnx", StringComparison.Ordinal);
        string modelPath = light ? casePath : Path.Combine(casePath, "model.onnx");
        string name = light ? Path.GetFileNameWithoutExtension(casePath) : Path.GetFileName(casePath.TrimEnd('/'));
        var ops = new List<string>();
        double loadMs = 0;
        try
        {
            var options = new LoomSessionOptions { VerifyInferredShapes = true };
            var model = OnnxImporter.Load(modelPath, options);
            ops = model.Graph.AllNodes().Select(n => n.OpType).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
            foreach (var op in ops)
                if (SkippedOperators.TryGetValue(op, out var why))
                    return new CaseResult(name, casePath, CaseStatus.Skipped, $"{op}: {why}", ops, 0);

            var sw = Stopwatch.StartNew();
            using var session = LoomSession.Load(modelPath, options);
            loadMs = sw.Elapsed.TotalMilliseconds;
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));

            if (light) return RunLight(session, casePath, name, ops, loadMs, cts.Token);

            var sets = Directory.GetDirectories(casePath, "test_data_set_*").OrderBy(s => s, StringComparer.Ordinal).ToList();
            if (sets.Count == 0) return new CaseResult(name, casePath, CaseStatus.Skipped, "no test_data_set folders", ops, loadMs);
            foreach (var set in sets)
            {
                var graph = session.Model.Graph;
                var required = graph.RequiredInputs.ToList();
                var inputs = new Dictionary<string, LoomValue>();
                for (int k = 0; ; k++)
                {
                    var file = Path.Combine(set, $"input_{k}.pb");
                    if (!File.Exists(file)) break;
                    var bytes = File.ReadAllBytes(file);
                    // Inputs are positional over the graph's inputs; a stored name, when present, wins.
                    var info = k < required.Count ? required[k] : null;
                    var stored = ValueProtos.ReadTensorName(bytes);
                    if (!string.IsNullOrEmpty(stored) && graph.Inputs.FirstOrDefault(i => i.Name == stored) is { } named) info = named;
                    if (info is null) return new CaseResult(name, casePath, CaseStatus.Failed, $"{file}: the model has no input #{k}", ops, loadMs);
                    inputs[info.Name] = AsDeclared(ValueProtos.Read(bytes, info.Type, file), info.Type);
                }
                using var result = session.Run(inputs, cts.Token);
                var random = RandomOutputs.CheckFor(name);
                for (int k = 0; k < graph.Outputs.Length; k++)
                {
                    var file = Path.Combine(set, $"output_{k}.pb");
                    if (!File.Exists(file)) continue;
                    var declared = graph.Outputs[k].Type ?? result[k].Value.Type;
                    var expected = AsDeclared(ValueProtos.ReadFile(file, declared), declared);
                    var (rtol, atol) = Tolerance(name);
                    var why = random is null ? ValueComparer.Compare(result[k].Value, expected, rtol, atol)
                        : result[k].Value is Tensor a && expected is Tensor e ? RandomOutputs.SameTypeAndShape(a, e) : "expected tensors";
                    if (why is not null)
                        return new CaseResult(name, casePath, CaseStatus.Failed, $"{Path.GetFileName(set)} output '{graph.Outputs[k].Name}': {why}", ops, loadMs);
                }
                if (random is not null && random(inputs.Values.OfType<Tensor>().ToList(), Enumerable.Range(0, graph.Outputs.Length).Select(k => (Tensor)result[k].Value).ToList()) is { } bad)
                    return new CaseResult(name, casePath, CaseStatus.Failed, $"{Path.GetFileName(set)}: {bad}", ops, loadMs);
            }
            return new CaseResult(name, casePath, CaseStatus.Passed, null, ops, loadMs);
        }
        catch (OperationCanceledException)
        {
            return new CaseResult(name, casePath, CaseStatus.Failed, $"timed out after {timeout ?? TimeSpan.FromMinutes(5)}", ops, loadMs);
        }
        catch (LoomException e)
        {
            return new CaseResult(name, casePath, CaseStatus.Failed, $"{e.GetType().Name}: {e.Message}", ops, loadMs);
        }
    }

    private static CaseResult RunLight(LoomSession session, string casePath, string name, List<string> ops, double loadMs, CancellationToken token)
    {
        var inputs = session.Inputs.ToDictionary(i => i.Name, i => (LoomValue)DeterministicInput(i, _ => 1));
        using var result = session.Run(inputs, token);
        var expectedPath = Path.Combine(Path.GetDirectoryName(casePath)!, name + "_output_0.pb");
        var expected = ValueProtos.ReadFile(expectedPath, null);
        double rtol = name.Contains("densenet121") ? 2e-3 : 1e-3;
        if (ValueComparer.Compare(result[0].Value, expected, rtol, 1e-7) is { } why)
            return new CaseResult(name, casePath, CaseStatus.Failed, $"output '{result[0].Name}': {why}", ops, loadMs);
        return new CaseResult(name, casePath, CaseStatus.Passed, null, ops, loadMs);
    }

    /// <summary>
    /// The input ONNX's light models were generated with: <c>x[i] = i / n</c> in row-major order, n the
    /// number of elements, every symbolic dim given by <paramref name="dimOf"/> (1 for the light models).
    /// </summary>
    public static Tensor DeterministicInput(ValueMetadata input, Func<string, long?> dimOf)
    {
        if (input.Shape is not { } shape) throw new InputException($"input '{input.Name}' has unknown rank; give it explicitly");
        var dims = shape.Dims.Select(d => (int)(d.Evaluate(dimOf) ?? 1)).ToArray();
        int n = (int)ShapeMath.Size(dims);
        var dt = input.ElementType == DataType.Undefined ? DataType.Float : input.ElementType;
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = (double)i / n;
        return dt switch
        {
            DataType.Float => Tensor.FromArray(values.Select(v => (float)v).ToArray(), dims),
            DataType.Double => Tensor.FromArray(values, dims),
            DataType.Float16 => Tensor.FromArray(values.Select(v => (Half)v).ToArray(), dims),
            _ => throw new InputException($"input '{input.Name}' is {dt.Name()}; the deterministic input x[i] = i/n is only defined for floating point"),
        };
    }

    /// <summary>
    /// ONNX 1.18's generator stored bfloat16 test values as uint16 tensors of the same bits; read them
    /// as the bfloat16 the model declares.
    /// </summary>
    private static LoomValue AsDeclared(LoomValue value, IR.IrType? declared)
    {
        if (value is not Tensor { DataType: DataType.UInt16 } t || declared is not IR.TensorType { ElementType: DataType.BFloat16 }) return value;
        var bits = t.AsSpan<ushort>();
        var converted = new BFloat16[bits.Length];
        for (int i = 0; i < bits.Length; i++) converted[i] = BFloat16.FromBits(bits[i]);
        return Tensor.FromArray(converted, t.Shape);
    }

    /// <summary>Comparison tolerance for a case: ONNX's defaults (rtol 1e-3, atol 1e-7).</summary>
    public static (double Rtol, double Atol) Tolerance(string caseName) => (1e-3, 1e-7);
}
