namespace Loom.Inference.Rules;

/// <summary>Shape rule of RotaryEmbedding: the output has the input's type and shape.</summary>
[ShapeRules]
internal static class RotaryEmbeddingRules
{
    public static void Register(ShapeRules r) => r.Add("RotaryEmbedding", ShapeHelpers.SameAsInput);
}
