using Loom.IR;
using Loom.Passes;

namespace Loom.Lowering.Trees;

/// <summary>How a session runs tree ensembles: as Loom's fused kernel, or lowered to a tensor program of standard operators.</summary>
public enum TreeLowering
{
    /// <summary>One fused kernel per tree node (<c>Kernels/Trees</c>); the faster choice on CPU.</summary>
    Fused,
    /// <summary>Rewritten by <see cref="LowerTreeEnsembles"/> into default-domain operators before the other passes.</summary>
    TensorProgram,
}

/// <summary>
/// Rewrites ONNX-ML tree nodes (TreeEnsembleRegressor, TreeEnsembleClassifier, TreeEnsemble) into
/// default-domain ONNX operators that run one of Hummingbird's strategies as a tensor program — GEMM,
/// TreeTraversal or PerfectTreeTraversal (<see cref="HummingbirdLowering"/>) — followed by the
/// aggregation, base values, post transform and labels (<see cref="TreeOutputLowering"/>). The result is
/// plain ONNX that any runtime scores; `loom convert --lower` writes it and
/// <c>LoomSessionOptions.TreeLowering</c> runs it. The fused kernel stays the default because it is
/// faster (docs/trees.md has the measurements): this pass exists so tree models can go through the
/// generic tensor path and to other runtimes, and to measure Hummingbird's claims on CPU.
///
/// Safe because every split is decided by <see cref="FlatForest"/>'s float test (x ≤ t, NaN by the
/// node's missing rule), exactly as the fused kernel decides it; only the sums change from double to
/// float (within 1e-5 relative in the tests). A node stays fused, with the reason in the log, when
/// its input is not a float32 [N, F] matrix, it has EQ/NEQ or set-membership (categorical) splits,
/// only single-leaf trees, a strategy's matrices would be too large (GEMM's grow as 4^depth,
/// PerfectTreeTraversal's as 2^depth), a two-class classifier's class flags depend on the leaf, or the
/// model imports the default domain below opset 13 (raising it could change its other nodes).
/// </summary>
public static class LowerTreeEnsembles
{
    /// <summary>The default-domain opset the lowered operators are written for (and the least a model must import).</summary>
    public const int MinOpset = 13;

    private static readonly HashSet<string> TreeOps = ["TreeEnsembleRegressor", "TreeEnsembleClassifier", "TreeEnsemble"];

    public static bool IsTreeNode(Node n) => n.Domain == "ai.onnx.ml" && TreeOps.Contains(n.OpType);

    /// <summary>
    /// Lowers every tree node of <paramref name="model"/> (main graph and subgraphs) with
    /// <paramref name="strategy"/>; Auto uses Hummingbird's own rule (GEMM to depth 3, PerfectTreeTraversal
    /// to depth 10, TreeTraversal beyond). Appends one line per tree node to <paramref name="log"/>.
    /// </summary>
    public static Model Run(Model model, TreeStrategy strategy, List<string>? log = null)
    {
        if (strategy == TreeStrategy.Interleaved)
            throw new UnsupportedException("the Interleaved tree strategy exists only as the fused kernel; lower with Gemm, TreeTraversal or PerfectTreeTraversal");
        if (!model.Graph.AllNodes().Any(IsTreeNode)) return model;
        int? imported = model.Opsets[""];
        if (imported < MinOpset)
        {
            log?.Add($"tree nodes left fused: the model imports the default domain at opset {imported}, below the {MinOpset} the lowering is written for");
            return model;
        }
        var lowering = new Rewriter(new UniqueNames(model.Graph), strategy, imported ?? MinOpset, log);
        var graph = lowering.Rewrite(model.Graph);
        if (ReferenceEquals(graph, model.Graph)) return model;
        var opsets = model.Opsets.Versions.SetItem("", imported ?? MinOpset);
        return new Model(graph, opsets, Math.Max(model.IrVersion, 7), model.ProducerName, model.ProducerVersion,
            model.Domain, model.ModelVersion, model.DocString, model.Metadata);
    }

    private sealed class Rewriter(UniqueNames names, TreeStrategy strategy, int opset, List<string>? log)
    {
        public Graph Rewrite(Graph g)
        {
            var nodes = new List<Node>();
            var initializers = g.Initializers;
            bool changed = false;
            foreach (var original in g.Nodes)
            {
                var node = original.WithSubgraphs(Rewrite);
                changed |= !ReferenceEquals(node, original);
                if (!IsTreeNode(node)) { nodes.Add(node); continue; }
                var name = node.Name.Length > 0 ? node.Name : node.Outputs.First(o => o.Length > 0);
                if (Lower(node, g, name) is not { } b)
                {
                    nodes.Add(node);
                    continue;
                }
                nodes.AddRange(b.Nodes);
                initializers = initializers.AddRange(b.Initializers);
                changed = true;
            }
            return changed ? new Graph(g.Name, g.Inputs, g.Outputs, nodes, initializers, g.ValueTypes) : g;
        }

        private TensorProgramBuilder? Lower(Node node, Graph g, string name)
        {
            TensorProgramBuilder? Refuse(string why)
            {
                log?.Add($"{name}: left fused: {why}");
                return null;
            }
            if (node.Inputs.Length != 1 || g.TypeOf(node.Inputs[0]) is not TensorType { ElementType: DataType.Float, Rank: 2 })
                return Refuse("its input is not a float32 [N, F] matrix");
            var spec = TreeEnsembleParser.Parse(node, m => new GraphException($"node '{name}': {m}"));
            var forest = FlatForest.From(spec);
            if (!forest.OnlyLeq) return Refuse("it has EQ, NEQ or set-membership splits, which the Hummingbird strategies do not encode");
            if (forest.MaxDepth == 0) return Refuse("every tree is a single leaf");
            if (spec.Classifier is { Count: < 2 }) return Refuse("a classifier needs at least two labels");
            var table = LeafTable.Build(spec);
            if (TreeOutputLowering.Refusal(spec, table) is { } why) return Refuse(why);
            var chosen = Choose(forest);
            if (chosen is null) return Refuse($"no tensor-program strategy fits {forest.TreeCount} trees of depth {forest.MaxDepth} (asked for {strategy})");

            var b = new TensorProgramBuilder(names, name, opset);
            string x = node.Inputs[0];
            var aggregate = chosen switch
            {
                TreeStrategy.Gemm => HummingbirdLowering.Gemm(b, new GemmProgram(forest), table, spec.Aggregate, x),
                TreeStrategy.PerfectTreeTraversal => HummingbirdLowering.PerfectTreeTraversal(b, new PerfectTreeTraversalProgram(forest), table, spec.Aggregate, x),
                _ => HummingbirdLowering.TreeTraversal(b, new TreeTraversalProgram(forest), table, spec.Aggregate, x),
            };
            TreeOutputLowering.Emit(b, spec, table, aggregate, node.Outputs);
            b.DropUnused();
            log?.Add($"{name}: {node.OpType} ({forest.TreeCount} trees, depth {forest.MaxDepth}) lowered to {chosen} as {b.Nodes.Count} nodes and {b.Initializers.Count} initializers");
            return b;
        }

        /// <summary>The forced strategy if it fits; for Auto, Hummingbird's rule, falling back to TreeTraversal (which always fits).</summary>
        private TreeStrategy? Choose(FlatForest forest)
        {
            bool Fits(TreeStrategy s) => s switch
            {
                TreeStrategy.Gemm => GemmFits(forest),
                TreeStrategy.PerfectTreeTraversal => PerfectTreeTraversalProgram.Fits(forest),
                _ => true,
            };
            if (strategy != TreeStrategy.Auto) return Fits(strategy) ? strategy : null;
            int depth = forest.MaxDepth;
            if (depth <= 3 && Fits(TreeStrategy.Gemm)) return TreeStrategy.Gemm;
            if (depth <= 10 && Fits(TreeStrategy.PerfectTreeTraversal)) return TreeStrategy.PerfectTreeTraversal;
            return TreeStrategy.TreeTraversal;
        }

        /// <summary>
        /// GEMM pads every tree to the most nodes (&lt; 2^D) and leaves (≤ 2^D) of any, so T·4^D bounds its
        /// path matrices; leaf numbers pass through float for MIN/MAX (exact below 2^24).
        /// </summary>
        private static bool GemmFits(FlatForest forest) =>
            GemmProgram.Fits(forest) && forest.Spec.LeafCount < 1 << 24 && forest.MaxDepth <= 15
            && ((long)forest.TreeCount << (2 * forest.MaxDepth)) <= GemmProgram.MaxPathElements;
    }
}
