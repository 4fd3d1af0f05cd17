using Loom.Inference.Rules;
using Loom.IR;
using Loom.Kernels;

namespace Loom.Passes;

/// <summary>
/// Constant folding. A node whose inputs are all constants — initializers, Constant nodes, or values
/// folded before it, in its own graph or in the graphs around a subgraph — is run once now with Loom's
/// own kernels (<see cref="NodeEvaluator"/>) and replaced by initializers holding its outputs, under the
/// same names. <c>Shape</c> and <c>Size</c> become constants too when the dims they return are known from
/// shape inference, so shape arithmetic (Gather, Concat, Reshape chains) folds, as do ConstantOfShape-built weights.
///
/// Safe because the same kernels would compute the same values at run time. Left alone: random
/// operators (and Dropout), operators of other domains, nodes with subgraphs (their cost is unbounded),
/// nodes producing a graph output (the interface stays as it was), non-tensor outputs, outputs larger
/// than both the byte cap and all the node's inputs together (so a 10-element Expand does not become a
/// huge initializer), and nodes whose evaluation fails (the error stays where the model would raise it).
/// Graph inputs are never constants, even with an initializer: a caller may override them.
/// </summary>
public static class ConstantFolding
{
    /// <summary>
    /// 1 MiB: enough for shape arithmetic, masks and small weights. Materializing bigger tensors from
    /// small descriptions (ConstantOfShape, Expand, Tile) costs load time and memory for little gain;
    /// raise it (LoomSessionOptions.MaxFoldedTensorBytes, <c>loom optimize --max-fold-bytes</c>) to fold them.
    /// </summary>
    public const long DefaultMaxTensorBytes = 1L << 20;

    public static Model Run(Model model) => Run(model, DefaultMaxTensorBytes);

    public static Model Run(Model model, long maxTensorBytes) =>
        model.WithGraph(new Folder(model.Opsets, maxTensorBytes).Fold(model.Graph, parent: null));

    /// <summary>Memory a tensor of this dtype and shape takes.</summary>
    internal static long Bytes(DataType dataType, ReadOnlySpan<int> dims) => ShapeMath.Size(dims) * Math.Max(1, dataType.ElementSize());

    private sealed class Folder(OpsetImports opsets, long maxTensorBytes)
    {
        public Graph Fold(Graph g, Scope? parent)
        {
            var scope = new Scope(g, parent);
            var graphOutputs = g.Outputs.Select(o => o.Name).ToHashSet();
            var nodes = new List<Node>(g.Nodes.Length);
            var initializers = g.Initializers;
            var valueTypes = g.ValueTypes;
            foreach (var original in g.Nodes)
            {
                var node = original.WithSubgraphs(sub => Fold(sub, scope));
                var values = node.Outputs.Any(graphOutputs.Contains) ? null : TryFold(node, scope);
                if (values is null)
                {
                    nodes.Add(node);
                    foreach (var o in node.Outputs) if (o.Length > 0) scope.Define(o, null);
                    continue;
                }
                for (int i = 0; i < node.Outputs.Length; i++)
                {
                    if (values[i] is not { } v) continue;
                    initializers = initializers.SetItem(node.Outputs[i], v);
                    valueTypes = valueTypes.Remove(node.Outputs[i]);
                    scope.Define(node.Outputs[i], v);
                }
            }
            if (nodes.Count == g.Nodes.Length) return g.WithNodes(nodes); // nothing folded here; subgraphs may have changed
            return new Graph(g.Name, g.Inputs, g.Outputs, nodes, initializers, valueTypes);
        }

        private Tensor?[]? TryFold(Node node, Scope scope)
        {
            if (node.Is("Constant")) return BasicRules.ConstantValue(node) is { } c ? [c] : null;
            if (!OpSemantics.IsPure(node) || node.Subgraphs.Any()) return null;
            if ((node.Is("Shape") || node.Is("Size")) && ShapeOf(node, scope) is { } s) return [s];

            var inputs = new Dictionary<string, Tensor>();
            foreach (var name in node.Inputs)
            {
                if (name.Length == 0) continue;
                if (scope.Constant(name) is not { } t) return null;
                inputs[name] = t;
            }
            if (!KernelRegistry.Default.Contains(node.Domain, node.OpType)) return null;
            // Folding may turn a small description into a big tensor only up to the cap; an output no
            // larger than the inputs together (a Transpose or Cast of a weight) does not grow the model.
            long limit = Math.Max(maxTensorBytes, inputs.Values.Sum(t => Bytes(t.DataType, t.Shape)));
            foreach (var o in node.Outputs)
            {
                // Known output types decide before running: no sequences, nothing above the limit.
                if (o.Length == 0 || scope.OutputType(o) is not { } type) continue;
                if (type is not TensorType tt) return null;
                if (tt.Shape?.ToKnown() is { } dims && Bytes(tt.ElementType, dims) > limit) return null;
            }
            return NodeEvaluator.TryEvaluate(node, inputs, opsets, limit);
        }

        /// <summary>
        /// Shape (with start/end from opset 15) or Size of an input whose inferred dims are known — for
        /// Shape, only the dims it returns need be: Shape(x)[1:] of x: [batch,3,224,224] is [3,224,224].
        /// </summary>
        private Tensor? ShapeOf(Node node, Scope scope)
        {
            if (!node.HasInput(0) || scope.Type(node.Inputs[0]) is not TensorType { Shape: { } shape }) return null;
            int rank = shape.Rank, start = 0, end = rank;
            if (node.OpType == "Shape" && (opsets[""] ?? 0) >= 15)
            {
                int Clamp(long v) => (int)Math.Clamp(v < 0 ? v + rank : v, 0, rank);
                start = Clamp(node.GetInt("start", 0));
                end = Math.Max(start, Clamp(node.GetInt("end", rank)));
            }
            if (new Shape(shape.Dims[start..end]).ToKnown() is not { } dims) return null;
            return node.OpType == "Size" ? Tensor.Scalar(ShapeMath.Size(dims)) : Tensor.FromArray(dims.Select(d => (long)d).ToArray(), dims.Length);
        }
    }

    /// <summary>What folding knows of the values visible in one graph; names defined here shadow the enclosing graphs'.</summary>
    private sealed class Scope
    {
        private readonly Graph _graph;
        private readonly Scope? _parent;
        private readonly Dictionary<string, Tensor?> _local = new();

        public Scope(Graph graph, Scope? parent)
        {
            _graph = graph;
            _parent = parent;
            foreach (var (name, t) in graph.Initializers) _local[name] = t;
            foreach (var i in graph.Inputs) _local[i.Name] = null; // an initializer of the same name is only a default
        }

        public void Define(string name, Tensor? constant) => _local[name] = constant;

        public Tensor? Constant(string name) => _local.TryGetValue(name, out var t) ? t : _parent?.Constant(name);

        public IrType? Type(string name) =>
            _local.TryGetValue(name, out var t) ? t?.Type ?? _graph.TypeOf(name) : _parent?.Type(name);

        /// <summary>The inferred type of an output of a node of this graph (not yet defined in the scope).</summary>
        public IrType? OutputType(string name) => _graph.TypeOf(name);
    }
}
