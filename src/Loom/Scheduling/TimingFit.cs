namespace Loom.Scheduling;

/// <summary>
/// Fits a <see cref="KernelTiming"/> to measurements: least squares on relative error (a 20 µs case
/// counts as much as a 2 ms one), with every coefficient non-negative — of the fits that leave some
/// coefficients at zero, the feasible one with the smallest error wins.
/// </summary>
internal static class TimingFit
{
    public readonly record struct Sample(double Work, double PackedBytes, double Seconds);

    public static KernelTiming Fit(IReadOnlyList<Sample> samples)
    {
        double[] best = [0, samples.Max(s => s.Seconds / Math.Max(s.Work, 1)), 0];
        double bestError = Error(samples, best);
        for (int mask = 1; mask < 8; mask++)
        {
            if (Solve(samples, mask) is not { } c || c.Any(x => x < 0)) continue;
            double e = Error(samples, c);
            if (e < bestError) { bestError = e; best = c; }
        }
        return new KernelTiming(best[0], best[1], best[2]);
    }

    private static double[] Features(Sample s) => [1, s.Work, s.PackedBytes];

    private static double Error(IReadOnlyList<Sample> samples, double[] c)
    {
        double e = 0;
        foreach (var s in samples)
        {
            var f = Features(s);
            double r = (c[0] * f[0] + c[1] * f[1] + c[2] * f[2]) / s.Seconds - 1;
            e += r * r;
        }
        return e;
    }

    /// <summary>Least squares over the coefficients in <paramref name="mask"/> (bit i: coefficient i), the others zero.</summary>
    private static double[]? Solve(IReadOnlyList<Sample> samples, int mask)
    {
        var used = Enumerable.Range(0, 3).Where(i => (mask >> i & 1) != 0).ToArray();
        int n = used.Length;
        if (samples.Count < n) return null;
        // Features differ by orders of magnitude (1, FLOPs, bytes): scale each to at most 1 so elimination stays exact enough.
        var scale = new double[3];
        foreach (var s in samples) { var f = Features(s); for (int i = 0; i < 3; i++) scale[i] = Math.Max(scale[i], Math.Abs(f[i])); }
        for (int i = 0; i < 3; i++) if (scale[i] == 0) scale[i] = 1;
        var a = new double[n, n + 1];
        foreach (var s in samples)
        {
            var f = Features(s);
            for (int i = 0; i < 3; i++) f[i] /= scale[i];
            double w = 1 / (s.Seconds * s.Seconds);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++) a[i, j] += w * f[used[i]] * f[used[j]];
                a[i, n] += w * f[used[i]] * s.Seconds;
            }
        }
        // Gaussian elimination with partial pivoting on the normal equations.
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++) if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            if (Math.Abs(a[pivot, col]) < 1e-300) return null;
            for (int k = 0; k <= n; k++) (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
            for (int r = 0; r < n; r++)
            {
                if (r == col) continue;
                double factor = a[r, col] / a[col, col];
                for (int k = col; k <= n; k++) a[r, k] -= factor * a[col, k];
            }
        }
        var c = new double[3];
        for (int i = 0; i < n; i++) c[used[i]] = a[i, n] / a[i, i] / scale[used[i]];
        return c;
    }
}
