using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Common;

/// <summary>Statistics of one contiguous run of elements, in double.</summary>
internal static class NormalizationStats
{
    /// <summary>Mean and population variance, two-pass (no cancellation from E[x²] - E[x]²).</summary>
    public static (double Mean, double Variance) Moments<T>(ReadOnlySpan<T> row)
    {
        double sum = 0;
        foreach (var v in row) sum += ToDouble(v);
        double mean = sum / row.Length;
        double sq = 0;
        foreach (var v in row) { double d = ToDouble(v) - mean; sq += d * d; }
        return (mean, sq / row.Length);
    }

    public static double MeanSquare<T>(ReadOnlySpan<T> row)
    {
        double sq = 0;
        foreach (var v in row) { double d = ToDouble(v); sq += d * d; }
        return sq / row.Length;
    }
}
