namespace Loom.Tests.Kernels;

/// <summary>Random inputs with the special values SIMD code gets wrong (NaN, ±0, ±∞, subnormals), and ulp distances.</summary>
internal static class VectorTestData
{
    private static readonly float[] Specials =
    [
        float.NaN, -float.NaN, 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon,
        1e-40f, -1e-40f, float.MaxValue, float.MinValue, 1f, -1f, 0.5f, -0.5f, 3f, -3f, 6f, -6f, 88.7f, -88.7f, 100f, -104f,
    ];

    /// <summary>n floats, mostly in [-range, range], about one in eight a special value.</summary>
    /// <summary>
    /// A seed from a test's name that is the same in every process: <c>string.GetHashCode</c> is randomised per
    /// process, which made these tests draw other random shapes on every run (once ~97⁴ elements, minutes on the
    /// scalar ISA path).
    /// </summary>
    public static int SeedOf(string name)
    {
        int h = 17;
        foreach (char c in name) h = unchecked(h * 31 + c);
        return h & 0xFFFF;
    }

    public static float[] Floats(int n, int seed, float range = 8f)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
            a[i] = r.Next(8) == 0 ? Specials[r.Next(Specials.Length)] : (float)((r.NextDouble() * 2 - 1) * range);
        return a;
    }

    public static double[] Doubles(int n, int seed, double range = 8) =>
        Floats(n, seed, (float)range).Select((v, i) => i % 3 == 0 ? v : v * (1 + 1e-9 * i)).ToArray();

    /// <summary>Equal bits, or both NaN (vector and scalar NaNs may differ in payload).</summary>
    public static bool Same(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));

    public static bool Same(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b) || (double.IsNaN(a) && double.IsNaN(b));

    /// <summary>Distance of <paramref name="actual"/> from the exact <paramref name="expected"/> in units of float32's last place there.</summary>
    public static double Ulps(float actual, double expected)
    {
        if (double.IsNaN(expected)) return float.IsNaN(actual) ? 0 : double.PositiveInfinity;
        if (actual == expected || actual == (float)expected) return 0; // (float)expected: beyond float32's range, infinity is right
        if (double.IsInfinity(expected) || float.IsInfinity(actual) || float.IsNaN(actual)) return double.PositiveInfinity;
        float e = Math.Abs((float)expected);
        double ulp = float.IsInfinity(e) ? Math.Pow(2, 104) : MathF.BitIncrement(e) - e;
        return Math.Abs(actual - expected) / ulp;
    }

    /// <summary>The same distance for float64 results.</summary>
    public static double Ulps(double actual, double expected)
    {
        if (double.IsNaN(expected)) return double.IsNaN(actual) ? 0 : double.PositiveInfinity;
        if (actual == expected) return 0;
        if (double.IsInfinity(expected) || double.IsInfinity(actual) || double.IsNaN(actual)) return double.PositiveInfinity;
        double e = Math.Abs(expected);
        return Math.Abs(actual - expected) / (Math.BitIncrement(e) - e);
    }
}
