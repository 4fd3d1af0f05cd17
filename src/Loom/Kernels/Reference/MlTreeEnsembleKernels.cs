using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>ai.onnx.ml TreeEnsemble (opset 5): sums (or averages, mins, maxes) leaf weights per target over all trees.</summary>
[KernelRegistrations]
internal static class MlTreeEnsembleKernels
{
    public static void Register(KernelRegistry r) => r.Add("TreeEnsemble", info => new TreeEnsembleKernel(TreeModel.Parse(info)), 5, domain: MlBasicKernels.Domain);

    private enum Mode : byte { Leq, Lt, Gte, Gt, Eq, Neq, Member }
    private enum Aggregate { Average, Sum, Min, Max }
    private enum PostTransform { None, Softmax, Logistic, SoftmaxZero, Probit }

    /// <summary>The ensemble in flat arrays; a child reference is a node index, or ~leafIndex for a leaf.</summary>
    private sealed class TreeModel
    {
        public required Mode[] Modes;
        public required int[] Features;
        public required double[] Splits;
        public required HashSet<double>?[] Members;
        public required bool[] MissingTrue;
        public required int[] True, False;
        public required int[] Roots; // node index, or ~leaf for a tree that is one leaf
        public required double[] LeafWeights;
        public required int[] LeafTargets;
        public required int Targets;
        public required Aggregate Aggregate;
        public required PostTransform Post;

        public static TreeModel Parse(KernelInfo info)
        {
            var n = info.Node;
            long[] Ints(string name) => info.GetInts(name)?.ToArray() ?? throw info.Fail($"attribute {name} is required");
            double[] Doubles(string name, bool required = true) => n.GetAttribute(name)?.AsTensor() is { } t ? ImageNumerics.ToDoubles(t)
                : required ? throw info.Fail($"attribute {name} is required") : [];

            var featureIds = Ints("nodes_featureids");
            var modes = Doubles("nodes_modes").Select(m => (Mode)(byte)m).ToArray();
            var splits = Doubles("nodes_splits");
            var trueIds = Ints("nodes_truenodeids");
            var falseIds = Ints("nodes_falsenodeids");
            var trueLeafs = Ints("nodes_trueleafs");
            var falseLeafs = Ints("nodes_falseleafs");
            var missing = info.GetInts("nodes_missing_value_tracks_true")?.ToArray() ?? new long[featureIds.Length];
            int count = featureIds.Length;
            if (new[] { modes.Length, splits.Length, trueIds.Length, falseIds.Length, trueLeafs.Length, falseLeafs.Length, missing.Length }.Any(l => l != count))
                throw info.Fail("the nodes_* attributes must all have the same length");
            var weights = Doubles("leaf_weights");
            var targets = Ints("leaf_targetids");
            if (weights.Length != targets.Length) throw info.Fail("leaf_weights and leaf_targetids must have the same length");
            long nTargets = info.GetInt("n_targets", 0);
            if (nTargets < 1 || nTargets > int.MaxValue) throw info.Fail($"n_targets {nTargets} must be positive");
            if (targets.Any(t => t < 0 || t >= nTargets)) throw info.Fail($"leaf_targetids must be in [0, {nTargets})");
            if (modes.Any(m => m > Mode.Member)) throw info.Fail("nodes_modes must be in [0, 6]");
            if (featureIds.Any(f => f < 0 || f > int.MaxValue)) throw info.Fail("nodes_featureids must be non-negative");

            // Each BRANCH_MEMBER node takes the next NaN-terminated run of membership_values, in node order.
            var memberValues = Doubles("membership_values", required: false);
            var members = new HashSet<double>?[count];
            int at = 0;
            for (int i = 0; i < count; i++)
            {
                if (modes[i] != Mode.Member) continue;
                var set = new HashSet<double>();
                while (at < memberValues.Length && !double.IsNaN(memberValues[at])) set.Add(memberValues[at++]);
                if (at >= memberValues.Length) throw info.Fail($"membership_values has no NaN-terminated set for member node {i}");
                at++;
                members[i] = set;
            }

            int Child(long id, long isLeaf, string what)
            {
                long limit = isLeaf != 0 ? weights.Length : count;
                if (id < 0 || id >= limit) throw info.Fail($"{what} {id} is out of range [0, {limit})");
                return isLeaf != 0 ? ~(int)id : (int)id;
            }
            var trueChild = new int[count];
            var falseChild = new int[count];
            for (int i = 0; i < count; i++)
            {
                trueChild[i] = Child(trueIds[i], trueLeafs[i], "nodes_truenodeids");
                falseChild[i] = Child(falseIds[i], falseLeafs[i], "nodes_falsenodeids");
            }
            var roots = Ints("tree_roots").Select(root =>
            {
                if (root < 0 || root >= count) throw info.Fail($"tree root {root} is out of range [0, {count})");
                int r = (int)root;
                // A tree that is a single leaf: both branches name the same leaf.
                return trueLeafs[r] != 0 && falseLeafs[r] != 0 && trueIds[r] == falseIds[r] ? trueChild[r] : r;
            }).ToArray();
            var aggregate = info.GetInt("aggregate_function", 1);
            var post = info.GetInt("post_transform", 0);
            if (aggregate is < 0 or > 3) throw info.Fail($"aggregate_function {aggregate} must be in [0, 3]");
            if (post is < 0 or > 4) throw info.Fail($"post_transform {post} must be in [0, 4]");
            return new TreeModel
            {
                Modes = modes, Features = featureIds.Select(f => (int)f).ToArray(), Splits = splits, Members = members,
                MissingTrue = missing.Select(m => m != 0).ToArray(), True = trueChild, False = falseChild, Roots = roots,
                LeafWeights = weights, LeafTargets = targets.Select(t => (int)t).ToArray(), Targets = (int)nTargets,
                Aggregate = (Aggregate)aggregate, Post = (PostTransform)post,
            };
        }

        /// <summary>The leaf a row reaches from <paramref name="node"/>, or -1 if the walk loops.</summary>
        public int Leaf(ReadOnlySpan<double> row, int node)
        {
            for (int steps = 0; node >= 0; steps++)
            {
                if (steps > Modes.Length) return -1;
                double x = row[Features[node]];
                bool go = double.IsNaN(x) && MissingTrue[node] || Modes[node] switch
                {
                    Mode.Leq => x <= Splits[node],
                    Mode.Lt => x < Splits[node],
                    Mode.Gte => x >= Splits[node],
                    Mode.Gt => x > Splits[node],
                    Mode.Eq => x == Splits[node],
                    Mode.Neq => x != Splits[node],
                    _ => Members[node]!.Contains(x),
                };
                node = go ? True[node] : False[node];
            }
            return ~node;
        }
    }

    private sealed class TreeEnsembleKernel(TreeModel m) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank != 2) throw ctx.Fail($"X has shape {ShapeMath.Format(x.Shape)}; expected [N, F]");
            if (!x.DataType.IsFloatingPoint()) throw ctx.Fail($"X is {x.DataType.Name()}; expected a float type");
            int rows = x.Dims[0], features = x.Dims[1];
            if (m.Features.Length > 0 && m.Features.Max() >= features) throw ctx.Fail($"the trees read feature {m.Features.Max()} but X has {features}");
            var data = ImageNumerics.ToDoubles(x);
            var y = ctx.AllocateOutput(0, x.DataType, [rows, m.Targets]);
            var result = new double[rows * m.Targets];
            var seen = new bool[m.Targets];
            for (int r = 0; r < rows; r++)
            {
                var row = data.AsSpan(r * features, features);
                var scores = result.AsSpan(r * m.Targets, m.Targets);
                Array.Clear(seen);
                foreach (int root in m.Roots)
                {
                    int leaf = m.Leaf(row, root);
                    if (leaf < 0) throw ctx.Fail($"tree rooted at node {root} has a cycle");
                    int t = m.LeafTargets[leaf];
                    double w = m.LeafWeights[leaf];
                    scores[t] = m.Aggregate switch
                    {
                        Aggregate.Min => seen[t] ? Math.Min(scores[t], w) : w,
                        Aggregate.Max => seen[t] ? Math.Max(scores[t], w) : w,
                        _ => scores[t] + w,
                    };
                    seen[t] = true;
                }
                if (m.Aggregate == Aggregate.Average)
                    for (int t = 0; t < scores.Length; t++) scores[t] /= m.Roots.Length;
                Transform(scores);
            }
            ImageNumerics.Store(result, y);
        }

        /// <summary>ONNX Runtime's post transforms; with one target only PROBIT applies, as there.</summary>
        private void Transform(Span<double> s)
        {
            switch (m.Post)
            {
                case PostTransform.Probit:
                    for (int i = 0; i < s.Length; i++) s[i] = Math.Sqrt(2) * ErfInv(2 * s[i] - 1);
                    break;
                case PostTransform.Logistic when s.Length > 1:
                    for (int i = 0; i < s.Length; i++) s[i] = 1 / (1 + Math.Exp(-s[i]));
                    break;
                case PostTransform.Softmax when s.Length > 1:
                case PostTransform.SoftmaxZero when s.Length > 1:
                {
                    // SOFTMAX_ZERO leaves (near-)zero scores at zero instead of exp(0).
                    bool zero = m.Post == PostTransform.SoftmaxZero;
                    double max = double.MinValue, sum = 0;
                    foreach (double v in s) max = Math.Max(max, v);
                    for (int i = 0; i < s.Length; i++)
                    {
                        if (zero && Math.Abs(s[i]) <= 1e-7) { s[i] *= Math.Exp(-max); continue; }
                        s[i] = Math.Exp(s[i] - max);
                        sum += s[i];
                    }
                    for (int i = 0; i < s.Length; i++) s[i] /= sum;
                    break;
                }
            }
        }

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
}
