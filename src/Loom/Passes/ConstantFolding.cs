using Loom.Inference.Rules;
using Loom.IR;
using Loom.Kernels;

namespace Loom.Passes;

/// <summary>
/// Constant folding. A node whose inputs are all constants — initializers, Constant nodes, or values
/// folded before it, in its own graph or in the graphs around a subgraph — is run once now with Loom's
/// own kernels (<see cref="NodeEvaluator"/>) and replaced by initializers holding its outputs, under the
/// same names. <c>Shape</c> and <c>Size</c> become constants too when the dims they return are known from
/// shape inference, so shape arithmetic (Gather, Concat, Reshape chains) folds, as do ConstantOfShape-built
/// weights. Foldable nodes are run in batches (all of them between two nodes with subgraphs) to compile
/// once; a batch that fails is rerun node by node, so only the failing nodes stay.
///
/// Safe because the same kernels would compute the same values at run time. Left alone: random
/// operators (and Dropout), operators of other domains, nodes with subgraphs (their cost is unbounded),
/// nodes producing a graph output (the interface stays as it was), non-tensor outputs, outputs larger
/// than both the byte cap and 4 times the node's inputs together (so a 10-element Expand does not become
/// a huge initializer, while a Cast or Transpose of a weight still folds; values used only as Conv/Gemm/MatMul
/// weights have a cap of their own, as kernels pre-pack only weights that are constant when they are created), and nodes whose evaluation
/// fails (the error stays where the model would raise it). Graph inputs are never constants, even with
/// an initializer: a caller may override them.
/// </summary>
public static class ConstantFolding
{
    /// <summary>
    /// 64 KiB: enough for shape arithmetic, masks and per-channel parameters. Materializing bigger tensors
    /// from small descriptions (ConstantOfShape, Expand, Tile) costs load time and memory for little gain;
    /// raise it (LoomSessionOptions.MaxFoldedTensorBytes, <c>loom optimize --max-fold-bytes</c>) to fold them.
    /// </summary>
    public const long DefaultMaxTensorBytes = 64L << 10;

    public static Model Run(Model model) => Run(model, DefaultMaxTensorBytes);

    public static Model Run(Model model, long maxTensorBytes) => Run(model, maxTensorBytes, maxTensorBytes);

    /// <param name="maxWeightBytes">The cap for a node whose outputs are all weight operands (<see cref="IsWeightInput"/>), such as
    /// the ConstantOfShape-built weights of test models.</param>
    public static Model Run(Model model, long maxTensorBytes, long maxWeightBytes) =>
        model.WithGraph(new Folder(model.Opsets, maxTensorBytes, maxWeightBytes).Fold(model.Graph, parent: null));

    /// <summary>Input <paramref name="i"/> of <paramref name="node"/> is a weight its kernel pre-packs when constant (Conv's W, MatMul's and Gemm's B).</summary>
    public static bool IsWeightInput(Node node, int i) =>
        i == 1 && node.Domain is "" or ConvOps.LoomDomain && (ConvOps.IsConvolution(node.OpType) || node.OpType is "MatMul" or "Gemm");

    /// <summary>Memory a tensor of this dtype and shape takes.</summary>
    internal static long Bytes(DataType dataType, ReadOnlySpan<int> dims) => ShapeMath.Size(dims) * Math.Max(1, dataType.ElementSize());

    private sealed class Folder(OpsetImports opsets, long maxTensorBytes, long maxWeightBytes)
    {
        public Graph Fold(Graph g, Scope? parent)
        {
            var scope = new Scope(g, parent);
            var weights = WeightNames(g);
            var graphOutputs = g.Outputs.Select(o => o.Name).ToHashSet();
            var nodes = new List<Node>(g.Nodes.Length);
            var folded = new HashSet<Node>(ReferenceEqualityComparer.Instance);
            var batch = new List<Node>();
            foreach (var original in g.Nodes)
            {
                if (original.Subgraphs.Any()) Flush(batch, scope, folded, weights); // the subgraphs may read what the batch computes
                var node = original.WithSubgraphs(sub => Fold(sub, scope));
                nodes.Add(node);
                if (node.Outputs.Any(graphOutputs.Contains) || !Classify(node, scope, weights, out var value)) scope.DefineAll(node, null);
                else if (value is not null) { scope.Define(node.Outputs[0], value); folded.Add(node); }
                else { batch.Add(node); scope.DefineAll(node, Scope.Pending); }
            }
            Flush(batch, scope, folded, weights);
            if (folded.Count == 0) return g.WithNodes(nodes); // nothing folded here; subgraphs may have changed

            var initializers = g.Initializers.ToBuilder();
            var valueTypes = g.ValueTypes.ToBuilder();
            foreach (var n in folded)
                foreach (var o in n.Outputs.Where(o => o.Length > 0))
                {
                    initializers[o] = scope.Constant(o)!;
                    valueTypes.Remove(o);
                }
            return new Graph(g.Name, g.Inputs, g.Outputs, nodes.Where(n => !folded.Contains(n)), initializers.ToImmutable(), valueTypes.ToImmutable());
        }

        /// <summary>
        /// Whether the node folds: with its <paramref name="value"/> at once (Constant, Shape, Size), or
        /// (value null) by running it, when its inputs are constants or values the batch will compute.
        /// </summary>
        private bool Classify(Node node, Scope scope, HashSet<string> weights, out Tensor? value)
        {
            value = null;
            if (node.Is("Constant")) return (value = BasicRules.ConstantValue(node)) is not null;
            if (!OpSemantics.IsPure(node) || node.Subgraphs.Any()) return false;
            if ((node.Is("Shape") || node.Is("Size")) && (value = ShapeOf(node, scope)) is not null) return true;
            if (!node.Inputs.All(i => i.Length == 0 || scope.Constant(i) is not null) || !KernelRegistry.Default.Contains(node.Domain, node.OpType))
                return false;
            // Known output types decide before running: no sequences, nothing above the limit.
            long limit = Limit(node, weights, node.Inputs.Select(i => i.Length == 0 ? 0 : BytesOf(scope.Type(i))));
            foreach (var o in node.Outputs)
            {
                if (o.Length == 0 || scope.OutputType(o) is not { } type) continue;
                if (type is not TensorType tt || BytesOf(tt) > limit) return false;
            }
            return true;
        }

        /// <summary>Runs the batch, and keeps as constants the outputs within their limits; the others stay computed by their nodes.</summary>
        private void Flush(List<Node> batch, Scope scope, HashSet<Node> folded, HashSet<string> weights)
        {
            if (batch.Count == 0) return;
            var inputs = KnownInputs(batch, scope);
            long runCap = 4 * (maxTensorBytes + inputs.Values.Sum(t => Bytes(t.DataType, t.Shape)));
            if (batch.Any(n => IsWeight(n, weights))) runCap = Math.Max(runCap, maxWeightBytes);
            var types = new Dictionary<string, IrType>();
            foreach (var o in batch.SelectMany(n => n.Outputs))
                if (o.Length > 0 && scope.OutputType(o) is { } type) types[o] = type;
            var batchValues = NodeEvaluator.TryEvaluate(batch, inputs, types, opsets, runCap);
            foreach (var node in batch)
            {
                // After a failed batch each node runs alone, when its inputs are known by now.
                var values = batchValues;
                if (values is null && node.Inputs.All(i => i.Length == 0 || scope.Known(i) is not null))
                    values = NodeEvaluator.TryEvaluate([node], KnownInputs([node], scope), types, opsets, runCap);
                long limit = Limit(node, weights, node.Inputs.Select(i => (i.Length == 0 ? null : scope.Known(i) ?? values?.GetValueOrDefault(i) as Tensor) is { } t ? Bytes(t.DataType, t.Shape) : 0));
                var outputs = node.Outputs.Where(o => o.Length > 0).ToList();
                if (values is not null && outputs.All(o => values.GetValueOrDefault(o) is Tensor t && Bytes(t.DataType, t.Shape) <= limit))
                {
                    foreach (var o in outputs) scope.Define(o, (Tensor)values[o]);
                    folded.Add(node);
                }
                else scope.DefineAll(node, null);
            }
            batch.Clear();
        }

        private static Dictionary<string, Tensor> KnownInputs(IEnumerable<Node> nodes, Scope scope)
        {
            var inputs = new Dictionary<string, Tensor>();
            foreach (var i in nodes.SelectMany(n => n.Inputs))
                if (i.Length > 0 && scope.Known(i) is { } t) inputs[i] = t;
            return inputs;
        }

        private long Limit(Node node, HashSet<string> weights, IEnumerable<long> inputBytes) =>
            Math.Max(IsWeight(node, weights) ? maxWeightBytes : maxTensorBytes, 4 * inputBytes.Sum());

        private static bool IsWeight(Node node, HashSet<string> weights) =>
            node.Outputs.Any(o => o.Length > 0) && node.Outputs.All(o => o.Length == 0 || weights.Contains(o));

        /// <summary>Values of <paramref name="g"/> used only as weight operands.</summary>
        private static HashSet<string> WeightNames(Graph g)
        {
            var weights = new HashSet<string>();
            var other = new HashSet<string>();
            foreach (var n in g.AllNodes())
                for (int i = 0; i < n.Inputs.Length; i++)
                    (IsWeightInput(n, i) ? weights : other).Add(n.Inputs[i]);
            weights.ExceptWith(other);
            return weights;
        }

        private static long BytesOf(IrType? type) => type is TensorType { Shape: { } s } t && s.ToKnown() is { } dims ? Bytes(t.ElementType, dims) : 0;

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
        /// <summary>Marks a value the current batch will compute: a constant whose tensor is not known yet.</summary>
        public static readonly Tensor Pending = Tensor.Scalar(0f);

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

        public void DefineAll(Node node, Tensor? constant)
        {
            foreach (var o in node.Outputs) if (o.Length > 0) _local[o] = constant;
        }

        /// <summary>The constant's tensor, <see cref="Pending"/> for a value the batch will compute, or null.</summary>
        public Tensor? Constant(string name) => _local.TryGetValue(name, out var t) ? t : _parent?.Constant(name);

        /// <summary>The constant's tensor when it is known now.</summary>
        public Tensor? Known(string name) => Constant(name) is { } t && !ReferenceEquals(t, Pending) ? t : null;

        public IrType? Type(string name) =>
            _local.TryGetValue(name, out var t) ? (t is null || ReferenceEquals(t, Pending) ? _graph.TypeOf(name) : t.Type) : _parent?.Type(name);

        /// <summary>The inferred type of an output of a node of this graph (not yet defined in the scope).</summary>
        public IrType? OutputType(string name) => _graph.TypeOf(name);
    }
}
