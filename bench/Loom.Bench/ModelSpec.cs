namespace Loom.Bench;

/// <summary>A model to benchmark and the sizes its symbolic dims take at batch 1 and at a larger batch.</summary>
internal sealed record ModelSpec(string Name, string Path, string? BatchSymbol, IReadOnlyDictionary<string, long> Fixed)
{
    /// <summary>Models whose inputs have a literal batch of 1 batch through <see cref="LoomSessionOptions.GeneralizeBatch"/>, as <c>batch</c>.</summary>
    public bool CanBatch => BatchSymbol is not null;

    public Dictionary<string, long> Dims(int batch)
    {
        var d = new Dictionary<string, long>(Fixed);
        if (BatchSymbol is not null) d[BatchSymbol] = batch;
        return d;
    }

    /// <summary>
    /// The model's FLOPs at this batch (multiply-add = 2; nodes whose count is unknown add nothing): batch 1
    /// times the batch, since light models have a literal batch of 1 that the session generalizes.
    /// </summary>
    public double Flops(int batch)
    {
        if (_flops1 is null)
        {
            var graph = Inference.ShapeInference.Run(Import.Onnx.OnnxImporter.Load(Path)).Graph;
            var dims = Dims(1);
            _flops1 = Inference.FlopCounter.Total(graph, s => dims.TryGetValue(s, out var v) ? v : 1, out _) ?? 0;
        }
        return _flops1.Value * batch;
    }

    private double? _flops1;

    private static readonly string Shared = SharedFolder.Root;

    private static readonly string[] Light = ["inception_v1", "inception_v2", "squeezenet", "densenet121", "resnet50", "shufflenet", "bvlc_alexnet", "zfnet512", "vgg19"];

    private const string PaddleBatch = "p2o.DynamicDimension.0";

    public static List<ModelSpec> Defaults()
    {
        var list = Light.Select(m => For(System.IO.Path.Combine(Shared, "onnx-backend-tests", "light", $"light_{m}.onnx"))).ToList();
        list.Add(For(System.IO.Path.Combine(Shared, "models", "ch_PP-OCRv4_det_infer.onnx")));
        list.Add(For(System.IO.Path.Combine(Shared, "models", "ch_ppocr_mobile_v2.0_cls_infer.onnx")));
        return list;
    }

    /// <summary>The light models batch as <c>batch</c>; PaddleOCR's detector runs at 640×640 and its classifier at 48×192.</summary>
    public static ModelSpec For(string path)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(path);
        if (name.Contains("PP-OCRv4_det", StringComparison.Ordinal))
            return new(name, path, PaddleBatch, new Dictionary<string, long> { ["p2o.DynamicDimension.1"] = 640, ["p2o.DynamicDimension.2"] = 640 });
        if (name.Contains("ppocr_mobile", StringComparison.Ordinal))
            return new(name, path, PaddleBatch, new Dictionary<string, long> { ["p2o.DynamicDimension.1"] = 48, ["p2o.DynamicDimension.2"] = 192 });
        return new(name, path, "batch", new Dictionary<string, long>());
    }
}
