using Loom.Lowering.Trees;

namespace Loom.Kernels.Trees;

/// <summary>
/// Turns the leaves a row reached into the operator's outputs, as ONNX Runtime's tree aggregators do:
/// aggregate (sum, average, min, max) per target, add base values, apply the post transform, and for
/// the classifier pick the label (with ONNX Runtime's binary-case rules). Sums are kept in double.
/// </summary>
internal sealed class TreeScoring
{
    private readonly TreeEnsembleSpec _spec;
    private readonly double[]? _leafValue; // one weight per leaf: its value and target
    private readonly int[]? _leafTarget;

    public TreeScoring(TreeEnsembleSpec spec)
    {
        _spec = spec;
        if (spec.OneWeightPerLeaf && spec.Aggregate is Lowering.Trees.Aggregate.Sum or Lowering.Trees.Aggregate.Average)
        {
            _leafValue = spec.WeightValues;
            _leafTarget = spec.WeightTargets;
        }
        OutputWidth = spec.Targets;
        if (_leafValue is not null) TreeTargets = SingleTargetTrees(spec);
        if (TreeTargets is not null)
        {
            TargetHasTree = new bool[spec.Targets];
            foreach (int t in TreeTargets) TargetHasTree[t] = true;
        }
    }

    /// <summary>Each tree's one target, when every leaf of every tree holds one weight for its tree's target (boosted trees); else null.</summary>
    public int[]? TreeTargets { get; }

    /// <summary>With <see cref="TreeTargets"/>: which targets some tree feeds (every row then has a score there).</summary>
    public bool[]? TargetHasTree { get; }

    private static int[]? SingleTargetTrees(TreeEnsembleSpec spec)
    {
        var targets = new int[spec.TreeCount];
        var stack = new Stack<int>();
        for (int t = 0; t < spec.TreeCount; t++)
        {
            int target = -1;
            stack.Push(spec.Roots[t]);
            while (stack.Count > 0)
            {
                int n = stack.Pop();
                if (n >= 0) { stack.Push(spec.True[n]); stack.Push(spec.False[n]); continue; }
                int k = spec.WeightTargets[spec.LeafStart[~n]];
                if (target >= 0 && k != target) return null;
                target = k;
            }
            targets[t] = target;
        }
        return targets;
    }

    /// <summary>Columns of the score output.</summary>
    public int OutputWidth { get; }

    public bool IsClassifier => _spec.Classifier is not null;

    /// <summary>Adds up one row's leaves into <paramref name="scores"/> (cleared first) and marks targets that got a weight.</summary>
    public void Aggregate(ReadOnlySpan<int> leaves, Span<double> scores, Span<bool> has)
    {
        scores.Clear();
        has.Clear();
        if (_leafValue is not null)
        {
            if (scores.Length == 1)
            {
                double s = 0;
                foreach (int leaf in leaves) s += _leafValue[leaf];
                scores[0] = s;
                has[0] = leaves.Length > 0;
                return;
            }
            foreach (int leaf in leaves)
            {
                int t = _leafTarget![leaf];
                scores[t] += _leafValue[leaf];
                has[t] = true;
            }
            return;
        }
        var spec = _spec;
        foreach (int leaf in leaves)
            for (int w = spec.LeafStart[leaf]; w < spec.LeafStart[leaf + 1]; w++)
            {
                int t = spec.WeightTargets[w];
                double v = spec.WeightValues[w];
                scores[t] = spec.Aggregate switch
                {
                    Lowering.Trees.Aggregate.Min => has[t] && scores[t] <= v ? scores[t] : v,
                    Lowering.Trees.Aggregate.Max => has[t] && scores[t] >= v ? scores[t] : v,
                    _ => scores[t] + v,
                };
                has[t] = true;
            }
    }

    /// <summary>
    /// Finishes one row: writes <see cref="OutputWidth"/> scores to <paramref name="z"/> and returns the
    /// label index (classifier with string labels), label value (integer labels), or 0 (regressor).
    /// </summary>
    public long Finish(Span<double> scores, Span<bool> has, Span<double> z)
    {
        var spec = _spec;
        var bases = spec.BaseValues;
        if (spec.Classifier is { } c) return FinishClassifier(c, bases, spec.Post, scores, has, z);
        if (spec.Aggregate == Lowering.Trees.Aggregate.Average)
            for (int t = 0; t < scores.Length; t++) scores[t] /= spec.TreeCount;
        if (scores.Length == 1)
        {
            double s = scores[0] + (bases.Length == 1 ? bases[0] : 0);
            z[0] = spec.Post == PostTransform.Probit ? Probit(s) : s;
            return 0;
        }
        if (bases.Length == scores.Length)
            for (int t = 0; t < scores.Length; t++) scores[t] += bases[t];
        ZeroUnscored(scores, has);
        Transform(spec.Post, scores, z);
        return 0;
    }

    /// <summary>ONNX Runtime's classifier rules, binary quirks included (its tree_ensemble_aggregator).</summary>
    private static long FinishClassifier(ClassifierInfo c, double[] bases, PostTransform post, Span<double> s, Span<bool> has, Span<double> z)
    {
        long Label(int k) => c.IntLabels is { } ints ? ints[k] : k;
        if (c.Count > 2)
        {
            for (int k = 0; k < Math.Min(bases.Length, s.Length); k++)
            {
                s[k] = has[k] ? s[k] + bases[k] : bases[k];
                has[k] = true;
            }
            int best = -1;
            for (int k = 0; k < s.Length; k++)
                if (has[k] && (best < 0 || s[k] > s[best])) best = k;
            ZeroUnscored(s, has);
            Transform(post, s, z);
            return Label(Math.Max(best, 0));
        }
        // Two classes. 'second' is ONNX Runtime's write_additional_scores: how one score becomes two columns.
        int second = -1, size = 2;
        if (bases.Length == 2)
        {
            if (has[1]) { s[1] = bases[1] + s[0]; s[0] = -s[1]; }
            else { s[1] += bases[1]; s[0] += bases[0]; }
        }
        else if (bases.Length == 1) { s[0] += bases[0]; if (!has[1]) size = 1; }
        else if (bases.Length == 0) { second = 3; if (!has[1]) size = 1; }
        double positive = size == 2 && has[1] ? s[1] : has[0] ? s[0] : 0;
        long label;
        if (c.BinaryCase)
        {
            bool wins = c.WeightsAllPositive ? positive > 0.5 : positive > 0;
            second = (c.WeightsAllPositive ? 0 : 2) + (wins ? 0 : 1);
            label = Label(wins ? 1 : 0);
        }
        else label = positive > 0 ? 1 : 0; // ONNX Runtime returns 1/0 here, not the labels
        if (size == 2)
        {
            ZeroUnscored(s, has);
            Transform(post, s[..2], z);
            return label;
        }
        double v = s[0];
        if (post == PostTransform.Probit) (z[0], z[1]) = (Probit(v), 0);
        else (z[0], z[1]) = second switch
        {
            0 or 1 => (1 - v, v),
            2 or 3 => post == PostTransform.Logistic ? (Logistic(-v), Logistic(v)) : (-v, v),
            _ => (v, 0),
        };
        return label;
    }

    /// <summary>ONNX Runtime writes a target no tree gave a weight to as 0, base value or not.</summary>
    private static void ZeroUnscored(Span<double> s, ReadOnlySpan<bool> has)
    {
        for (int k = 0; k < s.Length; k++) if (!has[k]) s[k] = 0;
    }

    /// <summary>ONNX Runtime's write_scores for two or more scores.</summary>
    public static void Transform(PostTransform post, ReadOnlySpan<double> s, Span<double> z)
    {
        switch (post)
        {
            case PostTransform.Probit:
                for (int i = 0; i < s.Length; i++) z[i] = Probit(s[i]);
                break;
            case PostTransform.Logistic:
                for (int i = 0; i < s.Length; i++) z[i] = Logistic(s[i]);
                break;
            case PostTransform.Softmax:
            case PostTransform.SoftmaxZero:
            {
                // SOFTMAX_ZERO leaves (near-)zero scores at zero instead of exp(0).
                bool zero = post == PostTransform.SoftmaxZero;
                double max = double.MinValue, sum = 0;
                foreach (double v in s) max = Math.Max(max, v);
                for (int i = 0; i < s.Length; i++)
                {
                    if (zero && Math.Abs(s[i]) <= 1e-7) { z[i] = s[i] * Math.Exp(-max); continue; }
                    z[i] = Math.Exp(s[i] - max);
                    sum += z[i];
                }
                for (int i = 0; i < s.Length; i++) z[i] /= sum;
                break;
            }
            default:
                s.CopyTo(z);
                break;
        }
    }

    public static double Logistic(double v) => 1 / (1 + Math.Exp(-v));

    public static double Probit(double v) => Math.Sqrt(2) * ErfInv(2 * v - 1);

    /// <summary>The inverse error function by Winitzki's approximation, which ONNX Runtime uses for PROBIT.</summary>
    private static double ErfInv(double x)
    {
        double sign = x < 0 ? -1 : 1;
        x = (1 - x) * (1 + x);
        double log = Math.Log(x);
        double v = 2 / (Math.PI * 0.147) + 0.5 * log;
        double v2 = 1 / 0.147 * log;
        return sign * Math.Sqrt(-v + Math.Sqrt(v * v - v2));
    }
}
