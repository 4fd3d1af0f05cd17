using System.Globalization;
using Loom.Import.Onnx;
using Loom.Inference;
using Loom.IR;
using Microsoft.ML.OnnxRuntime;

namespace Loom.Bench;

/// <summary>
/// Every Conv (and FusedConv) of a model with constant weights, run alone in Loom and in ONNX Runtime at
/// the shapes the model gives it: best-of-runs milliseconds and GFLOP/s each, slowest Loom layers first. ONNX Runtime
/// pays a layout conversion per node here that it avoids inside a whole model, so its single-layer
/// times are a lower bound on its speed; GFLOP/s against the machine's peak is the absolute measure.
/// Options: --shape INPUT=D,D,... or --dim NAME=SIZE for symbolic inputs, --threads, --runs, --fuse; then optionally TOP (rows shown) and FILTER (substring of the layer text).
/// </summary>
internal static class LayerBench
{
    public static int Run(string[] args)
    {
        var o = BenchOptions.Parse(args, defaultRuns: 10);
        int top = o.Positional.Count > 1 ? int.Parse(o.Positional[1], CultureInfo.InvariantCulture) : 1000;
        string? filter = o.Positional.Count > 2 ? o.Positional[2] : null;
        // The graph a session runs (weights folded, BatchNormalization folded into them; --fuse: FusedConv too).
        var passes = new Passes.PassOptions { MaxFoldedWeightBytes = long.MaxValue, LoomOperators = o.Fuse };
        var model = Passes.PassPipeline.ForLevel(2, passes).Run(OnnxImporter.Load(o.Positional[0]));
        model = ShapeInference.Run(Concrete(model, o));
        var g = model.Graph;
        var rows = new List<(string Desc, double Gflop, double Loom, double Ort)>();
        // Not FusedConvTranspose, unlike ConvOps.IsConvolution: Time runs each layer in ONNX Runtime too, and only FusedConv
        // has a plain form made for it there.
        foreach (var node in g.Nodes.Where(n => n.OpType is "Conv" or "FusedConv" or "ConvTranspose" or "MaxPool" or "AveragePool"))
        {
            bool pool = node.OpType.EndsWith("Pool", StringComparison.Ordinal);
            Tensor? w = null;
            if ((!pool && !g.Initializers.TryGetValue(node.Inputs[1], out w)) || g.TypeOf(node.Inputs[0]) is not TensorType { Shape: { } xs }) continue;
            if (xs.Dims.Any(d => d.Value is null) || g.TypeOf(node.Outputs[0]) is not TensorType { Shape: { } ys }) continue;
            var x = xs.Dims.Select(d => (int)d.Value!).ToArray();
            var y = ys.Dims.Select(d => (int)d.Value!).ToArray();
            // Pools: one "flop" per window element read.
            var kernel = w?.Shape.ToArray() ?? [.. node.GetInts("kernel_shape")!.Value.Select(k => (int)k)];
            long perOutput = w is null ? kernel.Aggregate(1, (a, b) => a * b) : 2L * (w.Length / w.Shape[0]);
            double gflop = (ConvOps.IsTransposed(node.OpType) ? x : y).Aggregate(1L, (a, b) => a * b) * perOutput / 1e9;
            string desc = $"{node.OpType} {Fmt(kernel)} g{node.GetInt("group", 1)} s{(node.GetInts("strides") is { } s ? s[0] : 1)} {Fmt(x)}->{Fmt(y)}"
                + (node.OpType == ConvOps.FusedConv ? $" {node.GetString("activation", "")}{(node.Inputs.Length > 3 ? "+Z" : "")}" : "");
            if (filter is not null && !desc.Contains(filter, StringComparison.Ordinal)) continue;
            var (loomMs, ortMs) = Time(node, g, x, o);
            rows.Add((desc, gflop, loomMs, ortMs));
        }
        Console.WriteLine($"{"layer",-72}{"GFLOP",8}{"loom ms",9}{"GF/s",7}{"ort ms",9}{"GF/s",7}{"ratio",7}");
        foreach (var r in rows.OrderByDescending(r => r.Loom).Take(top))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Desc,-72}{r.Gflop,8:F3}{r.Loom,9:F3}{r.Gflop / r.Loom * 1e3,7:F1}{r.Ort,9:F3}{r.Gflop / r.Ort * 1e3,7:F1}{r.Loom / r.Ort,7:F2}"));
        double tl = rows.Sum(r => r.Loom), to = rows.Sum(r => r.Ort), tg = rows.Sum(r => r.Gflop);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{$"total ({rows.Count} layers)",-72}{tg,8:F3}{tl,9:F3}{tg / tl * 1e3,7:F1}{to,9:F3}{tg / to * 1e3,7:F1}{tl / to,7:F2}"));
        return 0;
    }

    private static string Fmt(int[] d) => string.Join('x', d);

    /// <summary>The model with its inputs' symbolic dims replaced by --shape / --dim values (1 otherwise).</summary>
    private static Model Concrete(Model m, BenchOptions o)
    {
        var inputs = m.Graph.Inputs.Select(i =>
        {
            if (i.Type is not TensorType { Shape: { } s } t || m.Graph.Initializers.ContainsKey(i.Name)) return i;
            var dims = o.Shapes.TryGetValue(i.Name, out var given) ? given.Select(d => (long)d)
                : s.Dims.Select(d => d.Value ?? d.Evaluate(n => o.Dims.TryGetValue(n, out var v) ? v : 1) ?? 1);
            return new ValueInfo(i.Name, new TensorType(t.ElementType, new Shape(dims.Select(Dim.Of))));
        });
        return m.WithGraph(m.Graph.WithInputs(inputs));
    }

    /// <summary>The node alone as a model: X (and Z) inputs, weights as initializers.</summary>
    private static (double Loom, double Ort) Time(Node node, Graph g, int[] x, BenchOptions o)
    {
        var inits = node.Inputs.Skip(1).Where(n => n.Length > 0 && g.Initializers.ContainsKey(n)).ToDictionary(n => n, n => g.Initializers[n]);
        var inputNames = node.Inputs.Where(n => n.Length > 0 && !inits.ContainsKey(n)).ToList();
        var feeds = new Dictionary<string, LoomValue>();
        foreach (var name in inputNames)
        {
            var shape = name == node.Inputs[0] ? x : ((TensorType)g.TypeOf(name)!).Shape!.Dims.Select(d => (int)d.Value!).ToArray();
            var data = new float[shape.Aggregate(1, (a, b) => a * b)];
            var r = new Random(1);
            for (int i = 0; i < data.Length; i++) data[i] = (float)(r.NextDouble() - 0.5);
            feeds[name] = Tensor.FromArray(data, shape);
        }
        ValueInfo Info(string n) => new(n, new TensorType(DataType.Float, new Shape(((Tensor)feeds[n]).Shape.ToArray().Select(d => Dim.Of(d)))));
        var opsets = new Dictionary<string, int> { [""] = 13, ["com.loom"] = 1 };
        var single = new Model(new Graph("layer", inputNames.Select(Info), [new ValueInfo(node.Outputs[0], null)], [node], inits), opsets);
        using var loom = LoomSession.Create(single, new LoomSessionOptions { IntraOpThreads = o.Threads });
        double loomMs = BenchOptions.BestMs(() => loom.Run(feeds).Dispose(), o.Runs);

        // ONNX Runtime runs the plain convolution (no Loom-domain op): first three inputs, no activation, no channel map.
        var plain = node.OpType == ConvOps.FusedConv
            ? new Node(ConvOps.Conv, node.Inputs.Take(3), node.Outputs,
                node.Attributes.Where(a => a.Name is not ("activation" or "activation_params" or "input_activation" or "input_channels")))
            : node;
        var ortInputs = plain.Inputs.Where(n => n.Length > 0 && !inits.ContainsKey(n)).ToList();
        var ortModel = new Model(new Graph("layer", ortInputs.Select(Info), [new ValueInfo(node.Outputs[0], null)], [plain], inits), new Dictionary<string, int> { [""] = 13 });
        using var so = new SessionOptions { IntraOpNumThreads = o.Threads, InterOpNumThreads = 1, ExecutionMode = Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL };
        using var ort = new InferenceSession(OnnxExporter.ToBytes(ShapeInference.Run(ortModel)), so);
        var values = ortInputs.Select(n => { var t = (Tensor)feeds[n]; return OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.Shape.ToArray().Select(d => (long)d).ToArray()); }).ToArray();
        using var ro = new RunOptions();
        double ortMs = BenchOptions.BestMs(() => ort.Run(ro, ortInputs.ToArray(), values, [node.Outputs[0]]).Dispose(), o.Runs);
        foreach (var v in values) v.Dispose();
        return (loomMs, ortMs);
    }
}
