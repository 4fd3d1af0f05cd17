using Loom.IR;
using Loom.Kernels;
using Loom.Runtime;
using Loom.Runtime.Threading;

namespace Loom.Passes;

/// <summary>
/// Runs nodes on constant inputs with Loom's own kernels, exactly as a session runs them: the nodes
/// become a graph whose inputs are initializers and whose outputs are everything the nodes produce,
/// compiled with the default kernel registry and executed without an execution frame, so the outputs
/// are plain arrays no pool reclaims. (Not through <see cref="LoomSession"/>, which would infer shapes
/// and optimize again; the kernels only need the inputs' types, which the initializers carry.)
/// </summary>
internal static class NodeEvaluator
{
    /// <summary>
    /// Every output of <paramref name="nodes"/> (in order, each reading only <paramref name="inputs"/> and
    /// earlier nodes' outputs, whose inferred <paramref name="types"/> are given) by name, or null when running them fails — an error, or a tensor above
    /// <paramref name="maxTensorBytes"/>.
    /// </summary>
    public static Dictionary<string, LoomValue>? TryEvaluate(IReadOnlyList<Node> nodes, IReadOnlyDictionary<string, Tensor> inputs,
        IReadOnlyDictionary<string, IrType> types, OpsetImports opsets, long maxTensorBytes)
    {
        var names = nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0).ToList();
        // The inferred types of the outputs spare the compiler a search of the output list for each value.
        var graph = new Graph("fold", [], names.Select(o => new ValueInfo(o, null)), nodes, inputs, types);
        var options = new LoomSessionOptions { OptimizationLevel = 0, MaxTensorBytes = maxTensorBytes };
        try
        {
            var compiled = new CompiledGraph(graph, opsets, KernelRegistry.Default, options, parent: null);
            var results = compiled.Execute(new RunState(options, new SymbolBindings(), WorkerPool.LazyCallerOnly, CancellationToken.None), null, []);
            var values = new Dictionary<string, LoomValue>(names.Count);
            for (int i = 0; i < names.Count; i++)
                // An output may be a view into a larger buffer (a slice of an input); keep only its elements.
                values[names[i]] = results[i] is Tensor t && (t.Offset != 0 || t.Buffer.Length != t.Length) ? t.Clone() : results[i];
            return values;
        }
        catch (LoomException)
        {
            return null; // some node fails on these inputs
        }
    }
}
