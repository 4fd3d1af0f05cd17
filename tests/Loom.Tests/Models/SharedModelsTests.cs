using Loom.Tests.Support;

namespace Loom.Tests.Models;

/// <summary>
/// The real models in ../shared/models (PaddleOCR, exported by their authors) give the same outputs in
/// Loom as in ONNX Runtime on the same random inputs (rtol 1e-3, atol 1e-4), at more than one batch size
/// from one loaded session.
/// </summary>
public sealed class SharedModelsTests
{
    [Fact]
    public void PaddleOcrClassifierMatchesOnnxRuntime()
    {
        var path = SharedData.Require("models", "ch_ppocr_mobile_v2.0_cls_infer.onnx");
        using var session = LoomSession.Load(path, new LoomSessionOptions { VerifyInferredShapes = true });
        var bytes = File.ReadAllBytes(path);
        foreach (var batch in new[] { 1, 3 })
        {
            var x = OrtOracle.RandomInput(seed: batch, batch, 3, 48, 192);
            var expected = OrtOracle.Run(bytes, new Dictionary<string, Tensor> { ["x"] = x });
            using var actual = session.Run(("x", x));
            foreach (var (name, (data, shape)) in expected)
                OrtOracle.AssertClose(data, shape, actual.Tensor(name), 1e-3, 1e-4, $"batch {batch} output {name}");
        }
    }

    [Fact]
    public void PaddleOcrDetectorMatchesOnnxRuntime()
    {
        var path = SharedData.Require("models", "ch_PP-OCRv4_det_infer.onnx");
        using var session = LoomSession.Load(path, new LoomSessionOptions { VerifyInferredShapes = true });
        var bytes = File.ReadAllBytes(path);
        foreach (var (h, w) in new[] { (320, 320), (224, 384) })
        {
            var x = OrtOracle.RandomInput(seed: h + w, 1, 3, h, w);
            var expected = OrtOracle.Run(bytes, new Dictionary<string, Tensor> { ["x"] = x });
            using var actual = session.Run(("x", x));
            foreach (var (name, (data, shape)) in expected)
                OrtOracle.AssertClose(data, shape, actual.Tensor(name), 1e-3, 1e-4, $"{h}x{w} output {name}");
        }
    }
}
