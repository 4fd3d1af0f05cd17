using Attr = Loom.IR.Attribute;

namespace Loom.Lowering.Trees;

/// <summary>
/// The end of a lowered tree node, as default-domain operators: from the per-row aggregate over trees
/// to the node's outputs — averaging, base values, zeros for targets no reached leaf fed, the post
/// transform, and a classifier's label — following ONNX Runtime's aggregators exactly as
/// <c>Kernels/Trees/TreeScoring</c> does (its binary-classifier rules included). Where TreeScoring decides
/// from a row's "has a weight" flags, the lowering decides once from <see cref="LeafTable.Coverage"/>, or
/// per row from the table's indicator columns.
/// </summary>
internal static class TreeOutputLowering
{
    /// <summary>Whether the outputs can be written for this ensemble (the binary classifier's rules need static coverage).</summary>
    public static string? Refusal(TreeEnsembleSpec spec, LeafTable table) =>
        spec.Classifier is { Count: 2 } && table.HasIndicators
            ? "a two-class classifier whose class weights depend on the leaf reached is left to the fused kernel" : null;

    /// <summary>Writes the node's outputs (<paramref name="outputs"/>: regressor [Y]; classifier [label, scores]; empty = not wanted).</summary>
    public static void Emit(TensorProgramBuilder b, TreeEnsembleSpec spec, LeafTable table, string aggregate, IReadOnlyList<string> outputs)
    {
        int k = spec.Targets;
        string scores = aggregate;
        string? has = null; // bool [N, K] per row, or [K] when fixed; null: every target always has a weight
        if (table.HasIndicators)
        {
            scores = b.Columns(aggregate, 0, k, "scores");
            var counts = b.Columns(aggregate, k, 2 * k, "weight_counts");
            has = spec.Aggregate == Aggregate.Min
                ? b.Op("Less", "has_weight", counts, b.Scalar("minus_half", -0.5f))
                : b.Op("Greater", "has_weight", counts, b.Scalar("half", 0.5f));
        }
        else if (table.Coverage.Any(c => c == Coverage.Never))
            has = b.Bools("has_weight", table.Coverage.Select(c => c == Coverage.Always).ToArray(), k);

        if (spec.Classifier is { } c)
        {
            if (c.Count == 2) Binary(b, spec, table, c, scores, outputs);
            else Multiclass(b, spec, c, scores, has, outputs);
            return;
        }
        if (spec.Aggregate == Aggregate.Average) scores = b.Op("Div", "average", scores, b.Scalar("tree_count", spec.TreeCount));
        var bases = spec.BaseValues;
        if (k == 1)
        {
            // One target: ONNX Runtime adds the base value even where no leaf gave a weight, and applies only PROBIT.
            if (has is not null) scores = b.Op("Where", "scored", has, scores, b.Scalar("zero", 0f));
            if (bases.Length == 1) scores = b.Op("Add", "with_base", scores, b.Scalar("base_value", (float)bases[0]));
            Output(b, spec.Post == PostTransform.Probit ? Probit(b, scores) : scores, outputs[0]);
            return;
        }
        if (bases.Length == k) scores = b.Op("Add", "with_base", scores, b.Floats("base_values", bases.Select(v => (float)v).ToArray(), k));
        if (has is not null) scores = b.Op("Where", "scored", has, scores, b.Scalar("zero", 0f));
        Output(b, Transform(b, spec.Post, scores), outputs[0]);
    }

    private static void Output(TensorProgramBuilder b, string value, string output)
    {
        if (output.Length > 0) b.Name(value, output);
    }

    private static string Labels(TensorProgramBuilder b, ClassifierInfo c) => c.IntLabels is { } ints
        ? b.Longs("class_labels", ints, ints.Length)
        : b.Const("class_labels", Tensor.FromArray(c.StringLabels!, c.StringLabels!.Length));

    /// <summary>Three or more classes: base values count as weights; the label is the first best class among those with a weight.</summary>
    private static void Multiclass(TensorProgramBuilder b, TreeEnsembleSpec spec, ClassifierInfo c, string scores, string? has, IReadOnlyList<string> outputs)
    {
        int k = c.Count;
        var bases = spec.BaseValues;
        if (bases.Length > 0)
        {
            var padded = Enumerable.Range(0, k).Select(i => i < bases.Length ? (float)bases[i] : 0f).ToArray();
            scores = b.Op("Add", "with_base", scores, b.Floats("base_values", padded, k));
            if (has is not null && bases.Length >= k) has = null;
            else if (has is not null) has = b.Op("Or", "has_weight_or_base", has, b.Bools("has_base", Enumerable.Range(0, k).Select(i => i < bases.Length).ToArray(), k));
        }
        var candidates = has is null ? scores : b.Op("Where", "candidates", has, scores, b.Scalar("minus_inf", float.NegativeInfinity));
        var best = b.Op("ArgMax", "best", [candidates], [Attr.Int("axis", 1), Attr.Int("keepdims", 0)]);
        if (outputs[0].Length > 0) b.Op("Gather", "label", [Labels(b, c), best], output: outputs[0]);
        if (has is not null) scores = b.Op("Where", "scored", has, scores, b.Scalar("zero", 0f));
        if (outputs.Count > 1) Output(b, Transform(b, spec.Post, scores), outputs[1]);
    }

    /// <summary>
    /// Two classes, ONNX Runtime's rules with the "has a weight" flags fixed per class: how base values
    /// combine, which score decides the label, and how one score becomes two columns.
    /// </summary>
    private static void Binary(TensorProgramBuilder b, TreeEnsembleSpec spec, LeafTable table, ClassifierInfo c, string scores, IReadOnlyList<string> outputs)
    {
        bool has0 = table.Coverage[0] == Coverage.Always, has1 = table.Coverage[1] == Coverage.Always;
        var bases = spec.BaseValues;
        string s0 = b.Columns(scores, 0, 1, "score0"), s1 = b.Columns(scores, 1, 2, "score1");
        string Base(int i) => b.Scalar($"base_value{i}", (float)bases[i]);
        bool oneScore = false, complement = false; // complement: ONNX Runtime's write_additional_scores modes 0-3
        if (bases.Length == 2)
        {
            if (has1) { s1 = b.Op("Add", "score1_base", s0, Base(1)); s0 = b.Op("Neg", "score0_neg", s1); }
            else { s1 = b.Op("Add", "score1_base", s1, Base(1)); s0 = b.Op("Add", "score0_base", s0, Base(0)); }
        }
        else if (bases.Length == 1) { s0 = b.Op("Add", "score0_base", s0, Base(0)); oneScore = !has1; }
        else if (bases.Length == 0) { complement = true; oneScore = !has1; }
        string positive = !oneScore && has1 ? s1 : has0 ? s0 : b.Op("Sub", "no_score", s0, s0);
        string label;
        if (c.BinaryCase)
        {
            complement = true;
            var wins = b.Op("Greater", "wins", positive, b.Scalar("decision", c.WeightsAllPositive ? 0.5f : 0f));
            label = b.Op("Gather", "label_2d", Labels(b, c), b.Cast(wins, DataType.Int64, "wins_index"));
        }
        else
        {
            // ONNX Runtime writes 1/0 here rather than the labels (string labels: the first or second).
            var index = b.Cast(b.Op("Greater", "wins", positive, b.Scalar("decision", 0f)), DataType.Int64, "label_index");
            label = c.IntLabels is not null ? index : b.Op("Gather", "label_2d", Labels(b, c), index);
        }
        if (outputs[0].Length > 0) b.Op("Reshape", "label", [label, b.Longs("label_shape", [-1], 1)], output: outputs[0]);
        if (outputs.Count < 2 || outputs[1].Length == 0) return;

        string z;
        if (!oneScore)
        {
            z = b.Op("Concat", "scores2", [s0, s1], [Attr.Int("axis", 1)]);
            if (!(has0 && has1)) z = b.Op("Where", "scored", b.Bools("has_weight", [has0, has1], 2), z, b.Scalar("zero", 0f));
            z = Transform(b, spec.Post, z);
        }
        else
        {
            string v = s0, zeros = b.Op("Expand", "zeros", b.Floats("zero_column", [0f], 1, 1), b.Op("Shape", "score_shape", v));
            (string a, string second) = spec.Post == PostTransform.Probit ? (Probit(b, v), zeros)
                : !complement ? (v, zeros)
                : c.WeightsAllPositive && c.BinaryCase ? (b.Op("Sub", "complement", b.Scalar("one", 1f), v), v)
                : spec.Post == PostTransform.Logistic ? (b.Op("Sigmoid", "negative", b.Op("Neg", "neg_score", v)), b.Op("Sigmoid", "positive", v))
                : (b.Op("Neg", "neg_score", v), v);
            z = b.Op("Concat", "scores2", [a, second], [Attr.Int("axis", 1)]);
        }
        Output(b, z, outputs[1]);
    }

    /// <summary>ONNX Runtime's write_scores for two or more scores per row, on [N, K].</summary>
    private static string Transform(TensorProgramBuilder b, PostTransform post, string s)
    {
        switch (post)
        {
            case PostTransform.Logistic: return b.Op("Sigmoid", "logistic", s);
            case PostTransform.Softmax: return b.Op("Softmax", "softmax", [s], [Attr.Int("axis", 1)]);
            case PostTransform.Probit: return Probit(b, s);
            case PostTransform.SoftmaxZero:
            {
                // Scores within 1e-7 of zero stay (near) zero and leave the denominator.
                var max = b.Reduce("ReduceMax", s, 1, true, "max");
                var e = b.Op("Exp", "exp", b.Op("Sub", "shifted", s, max));
                var zero = b.Op("LessOrEqual", "is_zero", b.Op("Abs", "abs", s), b.Scalar("zero_tolerance", 1e-7f));
                var sum = b.Reduce("ReduceSum", b.Op("Where", "exp_nonzero", zero, b.Scalar("zero", 0f), e), 1, true, "exp_sum");
                var small = b.Op("Mul", "zero_scaled", s, b.Op("Exp", "exp_neg_max", b.Op("Neg", "neg_max", max)));
                return b.Op("Div", "softmax_zero", b.Op("Where", "numerators", zero, small, e), sum);
            }
            default: return s;
        }
    }

    /// <summary>√2·erfinv(2v − 1) with Winitzki's approximation of erfinv, as ONNX Runtime computes PROBIT.</summary>
    private static string Probit(TensorProgramBuilder b, string v)
    {
        var x = b.Op("Sub", "probit_x", b.Op("Mul", "probit_2v", v, b.Scalar("two_f", 2f)), b.Scalar("one", 1f));
        var log = b.Op("Log", "probit_log", b.Op("Mul", "probit_1mx2", b.Op("Sub", "probit_1mx", b.Scalar("one", 1f), x), b.Op("Add", "probit_1px", b.Scalar("one", 1f), x)));
        var a = b.Op("Add", "probit_a", b.Scalar("probit_c", (float)(2 / (Math.PI * 0.147))), b.Op("Mul", "probit_half_log", log, b.Scalar("half", 0.5f)));
        var a2 = b.Op("Sub", "probit_disc", b.Op("Mul", "probit_a2", a, a), b.Op("Mul", "probit_log_k", log, b.Scalar("probit_inv_k", (float)(1 / 0.147))));
        var root = b.Op("Sqrt", "probit_root", b.Op("Sub", "probit_inner", b.Op("Sqrt", "probit_sqrt_disc", a2), a));
        // Sign(0) is 0 where Winitzki's formula takes +1, but the root is 0 there anyway.
        return b.Op("Mul", "probit", b.Op("Mul", "probit_signed", root, b.Op("Sign", "probit_sign", x)), b.Scalar("sqrt2", MathF.Sqrt(2)));
    }
}
