using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Runs one node on constant inputs with Loom's own kernels, exactly as a session would run it: the node
/// becomes a one-node model whose inputs are initializers, compiled and run with the default kernel
/// registry (and no optimization, which would recurse here).
/// </summary>
internal static class NodeEvaluator
{
    /// <summary>
    /// The node's outputs (null where the node does not produce that output), or null when it cannot be
    /// evaluated: an error, a non-tensor output, or a tensor above <paramref name="maxTensorBytes"/>.
    /// </summary>
    public static Tensor?[]? TryEvaluate(Node node, IReadOnlyDictionary<string, Tensor> inputs, OpsetImports opsets, long maxTensorBytes)
    {
        var outputs = node.Outputs.Where(o => o.Length > 0).ToList();
        var graph = new Graph("fold", [], outputs.Select(o => new ValueInfo(o, null)), [node], inputs);
        var model = new Model(graph, opsets.Versions);
        var options = new LoomSessionOptions { OptimizationLevel = 0, MaxTensorBytes = maxTensorBytes };
        try
        {
            using var session = LoomSession.Create(model, options);
            using var result = session.Run();
            var values = new Tensor?[node.Outputs.Length];
            for (int i = 0; i < node.Outputs.Length; i++)
            {
                if (node.Outputs[i].Length == 0) continue;
                if (result[node.Outputs[i]] is not Tensor t || ConstantFolding.Bytes(t.DataType, t.Shape) > maxTensorBytes) return null;
                // An output may be a view into a larger buffer (a slice of an input); keep only its elements.
                values[i] = t.Offset == 0 && t.Buffer.Length == t.Length ? t : t.Clone();
            }
            return values;
        }
        catch (LoomException)
        {
            return null; // the node fails on these inputs; it stays, and fails (or not) when the model runs
        }
    }
}
