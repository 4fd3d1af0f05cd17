namespace Loom.Kernels.Common;

/// <summary>Scalar functions .NET's Math lacks, accurate to double precision.</summary>
internal static class ElementwiseMath
{
    /// <summary>
    /// The error function. Below |x| = 3 its Maclaurin series converges quickly and keeps full relative
    /// accuracy near 0 (where Gelu needs it); above, erf = 1 - erfc with erfc from its continued fraction.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax >= 6) return Math.CopySign(1.0, x); // erfc(6) < 2.2e-17
        if (ax < 3)
        {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 80; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return sum * 1.1283791670955126; // 2/sqrt(pi)
        }
        return Math.CopySign(1.0 - Erfc(ax), x);
    }

    /// <summary>erfc(x) for x &gt;= 3 by the continued fraction exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))).</summary>
    private static double Erfc(double x)
    {
        // Evaluated bottom-up with enough terms for double precision at x >= 3.
        double f = x;
        for (int k = 60; k >= 1; k--) f = x + k / 2.0 / f;
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }

    /// <summary>
    /// log(1 + u) without the rounding of 1 + u swamping a small u (.NET's LogP1 is log(u + 1)): Kahan's
    /// log(w)·u/(w - 1) with w = 1 + u, accurate to a few ulps for every u &gt; -1.
    /// </summary>
    public static double Log1P(double u)
    {
        double w = 1 + u;
        return w == 1 ? u : Math.Log(w) * u / (w - 1);
    }

    /// <summary>log(1 + e^x) in the form that neither overflows for large x nor loses the small values of very negative x.</summary>
    public static double Softplus(double x) => x > 0 ? x + Log1P(Math.Exp(-x)) : Log1P(Math.Exp(x));
}
