using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Common;

/// <summary>Reduction of a loss over its samples, as the loss operators' <c>reduction</c> attribute names it.</summary>
internal enum LossReduction { None, Sum, Mean }

/// <summary>
/// The negative log-likelihood core shared by NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
/// Log-probabilities are <c>[N, C, D]</c> (D the product of the trailing dims), targets <c>[N, D]</c>;
/// sample (n, d) with class t costs <c>-logp[n, t, d] * weight[t]</c>, or nothing when t is ignore_index.
/// </summary>
internal static class LossNll
{
    public static LossReduction ParseReduction(string reduction, Func<string, Exception> fail) => reduction switch
    {
        "none" => LossReduction.None,
        "sum" => LossReduction.Sum,
        "mean" => LossReduction.Mean,
        _ => throw fail($"reduction must be none, sum or mean, not '{reduction}'"),
    };

    /// <summary>Per-sample losses and the sum of the weights applied (the divisor of a mean).</summary>
    public static (double[] Loss, double WeightSum) Compute<T>(ReadOnlySpan<T> logProb, long[] target, double[]? weight,
        int n, int c, int d, long? ignoreIndex, Func<string, Exception> fail)
    {
        var loss = new double[n * d];
        double weightSum = 0;
        for (int b = 0; b < n; b++)
            for (int k = 0; k < d; k++)
            {
                long t = target[b * d + k];
                if (t == ignoreIndex) continue;
                if (t < 0 || t >= c) throw fail($"target {t} is not a class index in [0, {c})");
                double w = weight?[t] ?? 1;
                loss[b * d + k] = -ToDouble(logProb[(b * c + (int)t) * d + k]) * w;
                weightSum += w;
            }
        return (loss, weightSum);
    }

    /// <summary>The loss output: per sample (shape of the targets), or their sum, or their weighted mean (a scalar).</summary>
    public static double[] Reduce(double[] loss, double weightSum, LossReduction reduction) => reduction switch
    {
        LossReduction.None => loss,
        LossReduction.Sum => [loss.Sum()],
        _ => [loss.Sum() / weightSum], // all samples ignored: 0/0 = NaN, as PyTorch
    };
}
