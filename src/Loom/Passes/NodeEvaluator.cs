using Loom.IR;
using Loom.Kernels;
using Loom.Runtime;
using Loom.Runtime.Threading;

namespace Loom.Passes;

/// <summary>
/// Runs one node on constant inputs with Loom's own kernels, exactly as a session runs it: the node
/// becomes a one-node graph whose inputs are initializers, compiled with the default kernel registry
/// and executed without an execution frame, so its outputs are plain arrays no pool reclaims. (Not through <see cref="LoomSession"/>: a session would infer shapes, verify and
/// optimize again for every folded node; the kernels only need the inputs' types, which the
/// initializers carry.)
/// </summary>
internal static class NodeEvaluator
{
    /// <summary>A pool without worker threads: folding runs each kernel on the calling thread.</summary>
    private static readonly Lazy<WorkerPool> CallerOnly = new(() => new WorkerPool(1));

    /// <summary>
    /// The node's outputs (null where the node does not produce that output), or null when it cannot be
    /// evaluated: an error, a non-tensor output, or a tensor above <paramref name="maxTensorBytes"/>.
    /// </summary>
    public static Tensor?[]? TryEvaluate(Node node, IReadOnlyDictionary<string, Tensor> inputs, OpsetImports opsets, long maxTensorBytes)
    {
        var graph = new Graph("fold", [], node.Outputs.Where(o => o.Length > 0).Select(o => new ValueInfo(o, null)), [node], inputs);
        var options = new LoomSessionOptions { OptimizationLevel = 0, MaxTensorBytes = maxTensorBytes };
        try
        {
            var compiled = new CompiledGraph(graph, opsets, KernelRegistry.Default, options, parent: null);
            var results = compiled.Execute(new RunState(options, new SymbolBindings(), CallerOnly, CancellationToken.None), null, []);
            var values = new Tensor?[node.Outputs.Length];
            for (int i = 0, k = 0; i < node.Outputs.Length; i++)
            {
                if (node.Outputs[i].Length == 0) continue;
                if (results[k++] is not Tensor t || ConstantFolding.Bytes(t.DataType, t.Shape) > maxTensorBytes) return null;
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
