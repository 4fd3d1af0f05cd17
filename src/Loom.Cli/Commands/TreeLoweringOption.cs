using System.CommandLine;
using Loom.Inference;
using Loom.IR;
using Loom.Lowering.Trees;

namespace Loom.Cli.Commands;

/// <summary><c>--lower gemm|tree-traversal|perfect-tree-traversal|auto</c>: tree nodes as Hummingbird tensor programs (convert, inspect).</summary>
internal static class TreeLoweringOption
{
    private static readonly Dictionary<string, TreeStrategy> Names = new()
    {
        ["gemm"] = TreeStrategy.Gemm,
        ["tree-traversal"] = TreeStrategy.TreeTraversal,
        ["perfect-tree-traversal"] = TreeStrategy.PerfectTreeTraversal,
        ["auto"] = TreeStrategy.Auto,
    };

    public static Option<string?> Create() => new("--lower")
    {
        Description = "rewrite tree ensembles as a tensor program of standard ONNX operators: gemm, tree-traversal, perfect-tree-traversal, or auto (Hummingbird's rule by depth)",
    };

    /// <summary>The model with its tree nodes lowered (types inferred first, as a tree node may read a featurizer's output); prints what happened to each node.</summary>
    public static Model Apply(Model model, string name)
    {
        if (!Names.TryGetValue(name, out var strategy))
            throw new InputException($"--lower '{name}' must be one of {string.Join(", ", Names.Keys)}");
        var log = new List<string>();
        var lowered = LowerTreeEnsembles.Run(ShapeInference.Run(model), strategy, log);
        foreach (var line in log) Console.Error.WriteLine(line);
        if (lowered.Graph.AllNodes().Any(LowerTreeEnsembles.IsTreeNode) || log.Count == 0)
            throw new UnsupportedException(log.Count == 0 ? "the model has no tree ensemble to lower" : "not every tree ensemble could be lowered (reasons above)");
        return lowered;
    }
}
