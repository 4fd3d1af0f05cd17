namespace Loom.Kernels.Common;

/// <summary>
/// One fold of a reduction: the accumulator's start value, how an input element enters it (it may
/// depend on the output element it folds into, e.g. <c>exp(x - max[o])</c>), and how two combine.
/// Ops are structs so each (element type, op) pair compiles to its own loop.
/// </summary>
internal interface IReduceOp<T, TAcc>
{
    TAcc Identity { get; }
    TAcc Load(T x, int outIndex);
    TAcc Combine(TAcc a, TAcc b);
}

/// <summary>Folds an input into per-output accumulators along a <see cref="ReducePlan"/>, in one linear pass.</summary>
internal static class ReduceAccumulate
{
    public static void Run<T, TAcc, TOp>(ReadOnlySpan<T> x, Span<TAcc> acc, ReducePlan plan, TOp op)
        where TOp : struct, IReduceOp<T, TAcc>
    {
        acc.Fill(op.Identity);
        var rows = plan.GetRows();
        int n = plan.RowLength;
        if (plan.RowReduces)
        {
            while (rows.MoveNext())
            {
                int o = rows.OutputOffset;
                var row = x.Slice(rows.InputOffset, n);
                var a = acc[o];
                for (int j = 0; j < row.Length; j++) a = op.Combine(a, op.Load(row[j], o));
                acc[o] = a;
            }
        }
        else
        {
            while (rows.MoveNext())
            {
                int o = rows.OutputOffset;
                var row = x.Slice(rows.InputOffset, n);
                var dst = acc.Slice(o, n);
                for (int j = 0; j < row.Length; j++) dst[j] = op.Combine(dst[j], op.Load(row[j], o + j));
            }
        }
    }

    /// <summary>Per-output mean and (population) variance in double, two-pass for accuracy.</summary>
    public static (double[] Mean, double[] Variance) Moments<T>(ReadOnlySpan<T> x, ReducePlan plan)
    {
        var mean = new double[plan.OutputLength];
        Run(x, mean.AsSpan(), plan, new ReduceOps.Sum<T>());
        for (int i = 0; i < mean.Length; i++) mean[i] /= plan.ReducedCount;
        var variance = new double[plan.OutputLength];
        Run(x, variance.AsSpan(), plan, new ReduceOps.SquaredDeviation<T>(mean));
        for (int i = 0; i < variance.Length; i++) variance[i] /= plan.ReducedCount;
        return (mean, variance);
    }
}
