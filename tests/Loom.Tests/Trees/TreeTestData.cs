using System.Globalization;
using System.Text.RegularExpressions;
using Loom.Lowering.Trees;

namespace Loom.Tests.Trees;

/// <summary>Generated training data for tree fixtures, and the checks that compare Loom with a reference predictor.</summary>
public static partial class TreeTestData
{
    /// <summary>
    /// Row-major features and a label: column 0 is an integer category 0..9, the rest uniform in [-2, 2]
    /// with a share of NaNs and of exact zeros. The label depends on a few columns (and the category).
    /// <paramref name="classes"/> 0 gives a regression target, 2 a binary one, more a class index.
    /// </summary>
    public static (float[] X, float[] Y) Make(int rows, int cols, int seed, int classes = 0, double nanRate = 0.05, double zeroRate = 0.05)
    {
        var rng = new Random(seed);
        var x = new float[rows * cols];
        var y = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            x[r * cols] = rng.Next(10);
            for (int c = 1; c < cols; c++)
            {
                double u = rng.NextDouble();
                x[r * cols + c] = u < nanRate ? float.NaN : u < nanRate + zeroRate ? 0 : (float)(rng.NextDouble() * 4 - 2);
            }
            double Get(int c) => float.IsNaN(x[r * cols + c]) ? 0.3 : x[r * cols + c];
            double score = Math.Sin(Get(1)) * 2 + Get(2) * Get(3) + (x[r * cols] % 3 - 1) * 0.8 + rng.NextDouble() * 0.2;
            y[r] = classes switch
            {
                0 => (float)score,
                2 => score > 0 ? 1 : 0,
                _ => Math.Clamp((int)Math.Floor((score + 2.5) / 5 * classes), 0, classes - 1),
            };
        }
        return (x, y);
    }

    /// <summary>
    /// Rows that sit exactly on the model's numerical thresholds: for each split, its feature set to the
    /// float nearest the threshold, the floats either side of it, and the largest float not above it.
    /// </summary>
    public static float[] EdgeRows(string modelText, float[] baseRows, int cols, out int rows)
    {
        var features = Values(modelText, "split_feature");
        var thresholds = Values(modelText, "threshold");
        var decisions = Values(modelText, "decision_type");
        var result = new List<float>();
        var rng = new Random(7);
        int baseCount = baseRows.Length / cols;
        for (int i = 0; i < Math.Min(features.Count, 400); i++)
        {
            if (((int)decisions[i] & 1) != 0) continue; // categorical
            float t = (float)thresholds[i];
            foreach (var v in new[] { t, MathF.BitDecrement(t), MathF.BitIncrement(t), FlatForest.FloorToFloat(thresholds[i]) })
            {
                int from = rng.Next(baseCount);
                var row = baseRows.AsSpan(from * cols, cols).ToArray();
                row[(int)features[i]] = v;
                result.AddRange(row);
            }
        }
        rows = result.Count / cols;
        return result.ToArray();
    }

    private static List<double> Values(string text, string key) =>
        KeyLine().Matches(text).Where(m => m.Groups[1].Value == key)
            .SelectMany(m => m.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToList();

    [GeneratedRegex(@"^(\w+)=(.*)$", RegexOptions.Multiline)]
    private static partial Regex KeyLine();

    /// <summary>|loom - expected| ≤ 1e-5 · max(1, |expected|) everywhere, naming the worst element.</summary>
    public static void AssertMatches(double[] expected, float[] actual, string what, double rel = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        int bad = 0, worst = -1;
        double worstDiff = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(expected[i]) && float.IsNaN(actual[i])) continue;
            if (!(d <= rel * Math.Max(1, Math.Abs(expected[i]))))
            {
                bad++;
                if (d > worstDiff || worst < 0) (worstDiff, worst) = (d, i);
            }
        }
        Assert.True(bad == 0, $"{what}: {bad} of {actual.Length} values differ; worst at {worst}: loom {(worst >= 0 ? actual[worst] : 0)} vs reference {(worst >= 0 ? expected[worst] : 0)}");
    }

    /// <summary>Runs an imported tree model (through ONNX bytes, as a user would load it) with one strategy.</summary>
    public static float[] RunLoom(byte[] model, float[] x, int rows, int cols, TreeStrategy strategy, int threads = 2)
    {
        using var session = LoomSession.Load(model, new LoomSessionOptions { TreeStrategy = strategy, IntraOpThreads = threads, VerifyInferredShapes = true });
        using var result = session.Run(("features", Tensor.FromArray(x, rows, cols)));
        return ((Tensor)result[0].Value).ToArray<float>();
    }
}
