using Loom.IR;

namespace Loom.Kernels;

/// <summary>
/// The newest operator-set version of each domain Loom knows. A model importing a newer version may
/// use operator semantics Loom has never seen, so it is refused up front rather than run wrongly.
/// </summary>
public static class OpsetSupport
{
    public static readonly IReadOnlyDictionary<string, int> Newest = new Dictionary<string, int>
    {
        [""] = 25,                         // ai.onnx, as in ONNX 1.20 (opsets 24-25 mostly widen type lists; Swish and TensorScatter, new in 24, are not implemented and fail as unsupported operators)
        ["ai.onnx.ml"] = 5,
        ["ai.onnx.preview.training"] = 1,
        ["com.loom"] = 1,                  // Loom's own fused operators (FusedConv, ElementwiseChain)
    };

    public static void Check(Model model)
    {
        foreach (var (domain, version) in model.Opsets.Versions)
            if (Newest.TryGetValue(domain, out var newest) && version > newest)
                throw new UnsupportedException($"the model imports opset {version} of {(domain.Length == 0 ? "ai.onnx" : domain)}; Loom supports up to {newest}");
    }
}
