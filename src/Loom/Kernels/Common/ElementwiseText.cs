using System.Globalization;

namespace Loom.Kernels.Common;

/// <summary>Numbers as text the way NumPy's <c>astype(str)</c> writes them and ONNX's Cast reads them.</summary>
internal static class ElementwiseText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Format(float x) => FormatShortest(x, x.ToString("R", Invariant));
    public static string Format(double x) => FormatShortest(x, x.ToString("R", Invariant));
    public static string Format(Half x) => FormatShortest((double)x, x.ToString(Invariant));

    /// <summary>
    /// NumPy's <c>str</c> of a float: the shortest digits that round-trip in the value's own precision,
    /// positional when 1e-4 &lt;= |x| &lt; 1e16 (always with a fraction: <c>1.0</c>), else scientific
    /// with a signed, at least two-digit exponent (<c>1e-05</c>, <c>1.5e+16</c>); <c>nan</c>, <c>inf</c>.
    /// </summary>
    private static string FormatShortest(double value, string shortest)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        bool negative = shortest.StartsWith('-');
        if (negative) shortest = shortest[1..];

        // shortest is "ddd.ddd" or "d.dddE+xx": collect its digits and where the decimal point falls.
        int ePos = shortest.IndexOfAny(['E', 'e']);
        int exp10 = ePos >= 0 ? int.Parse(shortest[(ePos + 1)..], NumberStyles.AllowLeadingSign, Invariant) : 0;
        string mantissa = ePos >= 0 ? shortest[..ePos] : shortest;
        int dot = mantissa.IndexOf('.');
        string digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int point = (dot < 0 ? mantissa.Length : dot) + exp10; // value = 0.DIGITS × 10^point
        int lead = 0;
        while (lead < digits.Length && digits[lead] == '0') lead++;
        digits = digits[lead..].TrimEnd('0');
        point -= lead;
        if (digits.Length == 0) return negative ? "-0.0" : "0.0";

        double abs = Math.Abs(value);
        string body;
        if (abs >= 1e-4 && abs < 1e16)
        {
            if (point <= 0) body = "0." + new string('0', -point) + digits;
            else if (point >= digits.Length) body = digits + new string('0', point - digits.Length) + ".0";
            else body = digits[..point] + "." + digits[point..];
        }
        else
        {
            int e = point - 1;
            body = digits[..1] + (digits.Length > 1 ? "." + digits[1..] : "") + "e" + (e < 0 ? "-" : "+") + Math.Abs(e).ToString("00", Invariant);
        }
        return negative ? "-" + body : body;
    }

    /// <summary>
    /// Parses a decimal or scientific number, or (in any case) <c>NaN</c>, <c>INF</c>, <c>+INF</c>,
    /// <c>-INF</c>, <c>Infinity</c>. Returns false for anything else.
    /// </summary>
    public static bool TryParseDouble(string s, out double value) =>
        TryParseSpecial(s, out value) || double.TryParse(s.Trim(), NumberStyles.Float, Invariant, out value);

    /// <summary>As <see cref="TryParseDouble"/>, rounding the decimal text directly to float32.</summary>
    public static bool TryParseFloat(string s, out float value)
    {
        if (TryParseSpecial(s, out double d)) { value = (float)d; return true; }
        return float.TryParse(s.Trim(), NumberStyles.Float, Invariant, out value);
    }

    private static bool TryParseSpecial(string s, out double value)
    {
        var t = s.Trim();
        bool negative = t.StartsWith('-');
        string body = t.Length > 0 && t[0] is '+' or '-' ? t[1..] : t;
        value = body.ToLowerInvariant() switch
        {
            "nan" => double.NaN,
            "inf" or "infinity" => negative ? double.NegativeInfinity : double.PositiveInfinity,
            _ => 0,
        };
        return body.ToLowerInvariant() is "nan" or "inf" or "infinity";
    }

    /// <summary>An integer literal exactly (int64, or uint64 beyond int64's range, kept as its bits); else a number truncated toward zero.</summary>
    public static bool TryParseInteger(string s, out long value)
    {
        var t = s.Trim();
        if (long.TryParse(t, NumberStyles.Integer, Invariant, out value)) return true;
        if (ulong.TryParse(t, NumberStyles.Integer, Invariant, out ulong u)) { value = unchecked((long)u); return true; }
        if (t.Equals("true", StringComparison.OrdinalIgnoreCase)) { value = 1; return true; }
        if (t.Equals("false", StringComparison.OrdinalIgnoreCase)) { value = 0; return true; }
        if (!TryParseDouble(t, out double d)) return false;
        value = double.IsNaN(d) ? 0 : (long)Math.Truncate(d);
        return true;
    }
}
