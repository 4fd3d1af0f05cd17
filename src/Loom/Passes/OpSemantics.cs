using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// What passes may assume about an operator. Only operators of the ONNX domains have semantics Loom
/// knows; a node of any other domain may have side effects or state, so passes leave it alone.
/// </summary>
internal static class OpSemantics
{
    /// <summary>Operators whose outputs differ from run to run (random draws; Dropout in training mode).</summary>
    private static readonly HashSet<string> Random =
    [
        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial", "Dropout",
    ];

    public static bool IsKnownDomain(Node n) => n.Domain is "" or "ai.onnx.ml";

    /// <summary>True when the node, or a node of its subgraphs, belongs to a domain whose side effects Loom cannot know.</summary>
    public static bool MayHaveSideEffects(Node n) => !IsKnownDomain(n) || n.Subgraphs.Any(g => g.Nodes.Any(MayHaveSideEffects));

    /// <summary>
    /// True when the node always computes the same outputs from the same inputs and has no effect
    /// besides its outputs: an ONNX-domain operator that draws no random numbers, nor do its subgraphs.
    /// </summary>
    public static bool IsPure(Node n) =>
        IsKnownDomain(n) && !(n.Domain.Length == 0 && Random.Contains(n.OpType)) && n.Subgraphs.All(g => g.Nodes.All(IsPure));

    /// <summary>True when <paramref name="n"/> is <paramref name="opType"/> of the default ONNX domain.</summary>
    public static bool Is(this Node n, string opType) => n.Domain.Length == 0 && n.OpType == opType;
}
