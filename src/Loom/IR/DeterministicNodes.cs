namespace Loom.IR;

/// <summary>
/// Which nodes give the same outputs whenever their inputs are the same: those a runtime may evaluate
/// once when every input is constant (weights that models build with ConstantOfShape, shape arithmetic,
/// a scaled weight), and passes may treat as constant-derived.
/// </summary>
public static class DeterministicNodes
{
    // Random operators (and training Dropout) differ run to run; subgraph operators and other domains
    // are left alone because their bodies or semantics are not known to be pure.
    private static readonly HashSet<string> Random =
        ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli", "Dropout"];

    public static bool IsDeterministic(Node n) =>
        n.Domain is "" or "ai.onnx.ml" && !Random.Contains(n.OpType) && !n.Subgraphs.Any();
}
