namespace Loom.Lowering.Trees;

/// <summary>How a branch node compares feature x with its threshold; true sends x to the true child.</summary>
public enum NodeMode : byte { Leq, Lt, Gte, Gt, Eq, Neq, Member }

/// <summary>How leaf weights of one target combine across trees.</summary>
public enum Aggregate : byte { Average, Sum, Min, Max }

/// <summary>The ONNX-ML post transforms, in the order of TreeEnsemble (opset 5)'s integer codes.</summary>
public enum PostTransform : byte { None, Softmax, Logistic, SoftmaxZero, Probit }

/// <summary>Class labels and the binary-case facts ONNX Runtime's TreeEnsembleClassifier decides by.</summary>
public sealed record ClassifierInfo(long[]? IntLabels, string[]? StringLabels, bool BinaryCase, bool WeightsAllPositive)
{
    public int Count => IntLabels?.Length ?? StringLabels!.Length;
}

/// <summary>
/// A tree ensemble in one normal form, whichever ONNX-ML operator it came from (TreeEnsembleRegressor,
/// TreeEnsembleClassifier, TreeEnsemble): branch nodes in flat arrays, children as a node index or
/// <c>~leaf</c>, and each leaf's weights as (target, weight) pairs. Every lowering strategy and the
/// reference evaluator start from this.
/// </summary>
public sealed class TreeEnsembleSpec
{
    public required NodeMode[] Modes;
    public required int[] Features;
    public required double[] Thresholds;
    /// <summary>The value set of each <see cref="NodeMode.Member"/> node (null elsewhere).</summary>
    public required double[]?[] Members;
    public required bool[] MissingTrue;
    public required int[] True, False;
    /// <summary>Each tree's root: a node index, or <c>~leaf</c> for a tree that is one leaf.</summary>
    public required int[] Roots;
    /// <summary>Leaf <c>l</c>'s weights are <c>WeightTargets/WeightValues[LeafStart[l]..LeafStart[l+1]]</c>.</summary>
    public required int[] LeafStart;
    public required int[] WeightTargets;
    public required double[] WeightValues;
    public required int Targets;
    public required Aggregate Aggregate;
    public required PostTransform Post;
    public required double[] BaseValues;
    public ClassifierInfo? Classifier { get; init; }

    public int NodeCount => Modes.Length;
    public int LeafCount => LeafStart.Length - 1;
    public int TreeCount => Roots.Length;
    /// <summary>The highest feature index any node reads (-1 for none); computed once, as kernels check it on every run.</summary>
    public int MaxFeature => _maxFeature ??= Features.Length == 0 ? -1 : Features.Max();
    private int? _maxFeature;

    /// <summary>True when every leaf has exactly one weight (gradient-boosted trees: one class per tree).</summary>
    public bool OneWeightPerLeaf
    {
        get
        {
            for (int l = 0; l < LeafCount; l++) if (LeafStart[l + 1] - LeafStart[l] != 1) return false;
            return true;
        }
    }

    /// <summary>Does x go to the true child of branch node <paramref name="n"/>? Real-number comparison, NaN by the missing rule.</summary>
    public bool GoesTrue(int n, double x)
    {
        if (double.IsNaN(x) && MissingTrue[n]) return true;
        double t = Thresholds[n];
        return Modes[n] switch
        {
            NodeMode.Leq => x <= t,
            NodeMode.Lt => x < t,
            NodeMode.Gte => x >= t,
            NodeMode.Gt => x > t,
            NodeMode.Eq => x == t,
            NodeMode.Neq => x != t,
            _ => Array.IndexOf(Members[n]!, x) >= 0,
        };
    }

    /// <summary>The leaf a row reaches from <paramref name="root"/>, or -1 if the walk loops.</summary>
    public int Leaf(ReadOnlySpan<double> row, int root)
    {
        int node = root;
        for (int steps = 0; node >= 0; steps++)
        {
            if (steps > NodeCount) return -1;
            node = GoesTrue(node, row[Features[node]]) ? True[node] : False[node];
        }
        return ~node;
    }

    /// <summary>Depth of each tree (edges from root to its deepest leaf; 0 for a single leaf).</summary>
    public int[] TreeDepths()
    {
        var depths = new int[TreeCount];
        var stack = new Stack<(int Node, int Depth)>();
        for (int t = 0; t < TreeCount; t++)
        {
            int max = 0;
            stack.Push((Roots[t], 0));
            while (stack.Count > 0)
            {
                var (n, d) = stack.Pop();
                max = Math.Max(max, d);
                if (n < 0) continue;
                if (d > NodeCount) throw new GraphException($"tree {t} has a cycle");
                stack.Push((True[n], d + 1));
                stack.Push((False[n], d + 1));
            }
            depths[t] = max;
        }
        return depths;
    }
}
