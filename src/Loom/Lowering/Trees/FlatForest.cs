namespace Loom.Lowering.Trees;

/// <summary>
/// A tree ensemble for float32 inputs with every comparison rewritten as one test: a row goes to
/// <see cref="Left"/> iff <c>x &lt;= Threshold</c>, or x is NaN and <see cref="NanLeft"/>. LT, GTE and
/// GT nodes become that test by moving the threshold to the neighbouring float and swapping children,
/// which is exact because x is a float: x &lt; t ⇔ x ≤ (largest float below t), and x ≤ t (double)
/// ⇔ x ≤ (largest float ≤ t). EQ, NEQ and MEMBER nodes keep their own test (<see cref="General"/>);
/// a MEMBER node whose set is small non-negative integers (categories) also gets a bitset
/// (<see cref="Bitset"/>), which the interleaved walk tests directly. Children are a node index, or <c>~leaf</c>.
/// </summary>
public sealed class FlatForest
{
    public required TreeEnsembleSpec Spec;
    public required int[] Feature;
    public required float[] Threshold;
    public required bool[] NanLeft;
    public required int[] Left, Right;
    public required bool[] General;
    /// <summary>For MEMBER nodes whose members are all integers in [0, 65536): bit v set iff v is a member.</summary>
    public required uint[]?[] Bitset;
    public required int[] Depths;

    public int NodeCount => Feature.Length;
    public int TreeCount => Spec.Roots.Length;
    public int[] Roots => Spec.Roots;
    /// <summary>Has EQ/NEQ nodes, or MEMBER nodes without a bitset: only the generic walk handles it.</summary>
    public bool HasGeneral { get; private init; }
    /// <summary>Has bitset MEMBER nodes (and no other general node).</summary>
    public bool HasCategorical { get; private init; }
    /// <summary>Every node is a plain ≤ test: what the Hummingbird strategies encode.</summary>
    public bool OnlyLeq => !HasGeneral && !HasCategorical;
    public int MaxDepth => Depths.Length == 0 ? 0 : Depths.Max();

    /// <summary>Does x go left at node <paramref name="n"/>? (The scalar definition every strategy must agree with.)</summary>
    public bool GoesLeft(int n, float x) =>
        General[n] ? Spec.GoesTrue(n, x) : x <= Threshold[n] || (float.IsNaN(x) && NanLeft[n]);

    /// <summary>The largest float not above <paramref name="t"/> (NaN stays NaN).</summary>
    public static float FloorToFloat(double t)
    {
        float f = (float)t;
        return f > t ? MathF.BitDecrement(f) : f;
    }

    /// <summary>The largest float strictly below <paramref name="t"/>; NaN when there is none (t = -inf), which no x is ≤.</summary>
    public static float BelowToFloat(double t)
    {
        if (double.IsNegativeInfinity(t)) return float.NaN;
        float f = FloorToFloat(t);
        return f == t ? MathF.BitDecrement(f) : f;
    }

    public static FlatForest From(TreeEnsembleSpec spec)
    {
        int n = spec.NodeCount;
        var feature = spec.Features.ToArray();
        var threshold = new float[n];
        var nanLeft = new bool[n];
        var left = new int[n];
        var right = new int[n];
        var general = new bool[n];
        var bitset = new uint[]?[n];
        bool anyGeneral = false, anyCategorical = false;
        for (int i = 0; i < n; i++)
        {
            double t = spec.Thresholds[i];
            bool missingTrue = spec.MissingTrue[i];
            (left[i], right[i], nanLeft[i]) = (spec.True[i], spec.False[i], missingTrue);
            switch (spec.Modes[i])
            {
                case NodeMode.Leq: threshold[i] = FloorToFloat(t); break;
                case NodeMode.Lt: threshold[i] = double.IsNaN(t) ? float.NaN : BelowToFloat(t); break;
                case NodeMode.Gte:
                case NodeMode.Gt:
                    // x >= t is !(x < t): go to the false child when x is below; a NaN threshold fails every
                    // comparison, so every number goes to the false child: threshold +inf.
                    threshold[i] = double.IsNaN(t) ? float.PositiveInfinity : spec.Modes[i] == NodeMode.Gte ? BelowToFloat(t) : FloorToFloat(t);
                    (left[i], right[i], nanLeft[i]) = (spec.False[i], spec.True[i], !missingTrue);
                    break;
                default:
                    general[i] = true;
                    bitset[i] = spec.Modes[i] == NodeMode.Member ? CategoryBits(spec.Members[i]!) : null;
                    if (bitset[i] is null) anyGeneral = true;
                    else anyCategorical = true;
                    break;
            }
        }
        return new FlatForest
        {
            Spec = spec, Feature = feature, Threshold = threshold, NanLeft = nanLeft, Left = left, Right = right,
            General = general, Bitset = bitset, Depths = spec.TreeDepths(), HasGeneral = anyGeneral,
            HasCategorical = anyCategorical && !anyGeneral,
        };
    }

    private static uint[]? CategoryBits(double[] members)
    {
        if (members.Length == 0 || members.Any(m => m < 0 || m >= 65536 || m != Math.Floor(m))) return null;
        var bits = new uint[(int)members.Max() / 32 + 1];
        foreach (double m in members) bits[(int)m >> 5] |= 1u << ((int)m & 31);
        return bits;
    }
}
