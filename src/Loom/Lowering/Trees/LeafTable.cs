namespace Loom.Lowering.Trees;

/// <summary>Whether a target gets a weight from the leaves a row reaches: from no leaf, from some rows' leaves, or for every row.</summary>
internal enum Coverage : byte { Never, Sometimes, Always }

/// <summary>
/// Each leaf's contribution to every target, as the rows of a [leaves, width] float matrix that the
/// lowered tensor programs gather from (or, for GEMM, multiply by): the leaf's summed weight per target
/// for SUM/AVERAGE, its smallest/largest for MIN/MAX, where a leaf without a weight for a target holds
/// the aggregate's identity (0, +inf, -inf) so it changes nothing. ONNX Runtime writes 0 for a target
/// no reached leaf gave a weight to; when that depends on the row (<see cref="Coverage.Sometimes"/>),
/// the table has a second block of columns, one indicator per target (-1 for MIN, so one reduction
/// serves both blocks), which the reduction turns into "some leaf gave a weight".
/// </summary>
internal sealed class LeafTable
{
    public required float[] Values;
    public required int Targets;
    /// <summary>Targets, or twice that with the indicator columns.</summary>
    public required int Width;
    public required Coverage[] Coverage;

    public bool HasIndicators => Width > Targets;

    /// <summary>The value of a (leaf, target) no weight was given for.</summary>
    public static float Identity(Aggregate a) => a switch
    {
        Aggregate.Min => float.PositiveInfinity,
        Aggregate.Max => float.NegativeInfinity,
        _ => 0,
    };

    public static LeafTable Build(TreeEnsembleSpec spec)
    {
        int k = spec.Targets, leaves = spec.LeafCount;
        var coverage = TargetCoverage(spec);
        int width = coverage.Contains(Trees.Coverage.Sometimes) ? 2 * k : k;
        var values = new float[Math.Max(1, leaves) * width];
        float identity = Identity(spec.Aggregate), indicator = spec.Aggregate == Aggregate.Min ? -1 : 1;
        var has = new bool[k];
        for (int l = 0; l < leaves; l++)
        {
            var row = values.AsSpan(l * width, width);
            row[..k].Fill(identity);
            Array.Clear(has);
            for (int w = spec.LeafStart[l]; w < spec.LeafStart[l + 1]; w++)
            {
                int t = spec.WeightTargets[w];
                double v = spec.WeightValues[w], old = has[t] ? row[t] : identity;
                row[t] = (float)(spec.Aggregate switch
                {
                    Aggregate.Min => Math.Min(old, v),
                    Aggregate.Max => Math.Max(old, v),
                    _ => (has[t] ? old : 0) + v,
                });
                has[t] = true;
            }
            if (width > k)
                for (int t = 0; t < k; t++) row[k + t] = has[t] ? indicator : 0;
        }
        return new LeafTable { Values = values, Targets = k, Width = width, Coverage = coverage };
    }

    /// <summary>Always: some tree gives the target a weight in every leaf. Never: no leaf does.</summary>
    private static Coverage[] TargetCoverage(TreeEnsembleSpec spec)
    {
        int k = spec.Targets;
        var result = new Coverage[k];
        var count = new int[k];
        var stack = new Stack<int>();
        for (int tree = 0; tree < spec.TreeCount; tree++)
        {
            Array.Clear(count);
            int leaves = 0;
            stack.Push(spec.Roots[tree]);
            while (stack.Count > 0)
            {
                int n = stack.Pop();
                if (n >= 0) { stack.Push(spec.True[n]); stack.Push(spec.False[n]); continue; }
                leaves++;
                int l = ~n;
                // A leaf may list a target twice; count it once.
                for (int w = spec.LeafStart[l]; w < spec.LeafStart[l + 1]; w++)
                {
                    int t = spec.WeightTargets[w];
                    bool first = true;
                    for (int v = spec.LeafStart[l]; v < w; v++) if (spec.WeightTargets[v] == t) first = false;
                    if (first) count[t]++;
                }
            }
            for (int t = 0; t < k; t++)
                if (count[t] == leaves) result[t] = Trees.Coverage.Always;
                else if (count[t] > 0 && result[t] == Trees.Coverage.Never) result[t] = Trees.Coverage.Sometimes;
        }
        return result;
    }
}
