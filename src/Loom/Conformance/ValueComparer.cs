namespace Loom.Conformance;

/// <summary>
/// Compares a computed value with an expected one the way ONNX's backend tests do (NumPy's
/// <c>assert_allclose</c>): <c>|actual - expected| &lt;= atol + rtol * |expected|</c> for floating
/// point, NaN where NaN is expected, exact equality for integers, booleans and strings.
/// </summary>
public static class ValueComparer
{
    /// <summary>Null when the values match, else what differs.</summary>
    public static string? Compare(LoomValue? actual, LoomValue expected, double rtol, double atol)
    {
        switch (expected)
        {
            case Tensor e:
                return actual is Tensor a ? CompareTensors(a, e, rtol, atol) : $"expected a tensor, got {Describe(actual)}";
            case TensorSequence es:
                if (actual is not TensorSequence s) return $"expected a sequence, got {Describe(actual)}";
                if (s.Count != es.Count) return $"sequence has {s.Count} elements, expected {es.Count}";
                for (int i = 0; i < s.Count; i++)
                    if (CompareTensors(s[i], es[i], rtol, atol) is { } why) return $"sequence element {i}: {why}";
                return null;
            case MapSequence em:
                if (actual is not MapSequence m) return $"expected a sequence of maps, got {Describe(actual)}";
                if (m.Count != em.Count) return $"sequence has {m.Count} maps, expected {em.Count}";
                for (int i = 0; i < m.Count; i++)
                    if (CompareMaps(m[i], em[i], rtol, atol) is { } why) return $"map {i}: {why}";
                return null;
            case MapValue emap:
                return actual is MapValue amap ? CompareMaps(amap, emap, rtol, atol) : $"expected a map, got {Describe(actual)}";
            case OptionalValue eo:
                if (actual is not OptionalValue o) return $"expected an optional, got {Describe(actual)}";
                if (o.HasValue != eo.HasValue) return $"optional {(o.HasValue ? "has" : "lacks")} a value, expected the opposite";
                return eo.Value is null ? null : Compare(o.Value, eo.Value, rtol, atol);
            default:
                return $"cannot compare {expected.Type}";
        }
    }

    /// <summary>Same keys in the same order, values within tolerance.</summary>
    private static string? CompareMaps(MapValue a, MapValue e, double rtol, double atol)
    {
        if (a.KeyType != e.KeyType) return $"keys are {a.KeyType.Name()}, expected {e.KeyType.Name()}";
        if (a.Count != e.Count) return $"{a.Count} entries, expected {e.Count}";
        for (int i = 0; i < e.Count; i++)
        {
            if (a.KeyText(i) != e.KeyText(i)) return $"key {i} is '{a.KeyText(i)}', expected '{e.KeyText(i)}'";
            double x = a.Values[i], y = e.Values[i];
            bool ok = double.IsNaN(y) ? double.IsNaN(x) : double.IsInfinity(y) ? x == y : Math.Abs(x - y) <= atol + rtol * Math.Abs(y);
            if (!ok) return $"value of '{e.KeyText(i)}' is {x:G9}, expected {y:G9}";
        }
        return null;
    }

    private static string Describe(LoomValue? v) => v?.Type.ToString() ?? "nothing";

    public static string? CompareTensors(Tensor a, Tensor e, double rtol, double atol)
    {
        if (a.DataType != e.DataType) return $"dtype {a.DataType.Name()}, expected {e.DataType.Name()}";
        if (!a.Shape.SequenceEqual(e.Shape)) return $"shape {ShapeMath.Format(a.Shape)}, expected {ShapeMath.Format(e.Shape)}";
        if (e.DataType == DataType.String)
        {
            var sa = a.AsSpan<string>(); var se = e.AsSpan<string>();
            for (int i = 0; i < sa.Length; i++)
                if (sa[i] != se[i]) return $"element {i} is \"{sa[i]}\", expected \"{se[i]}\"";
            return null;
        }
        bool exact = !e.DataType.IsFloatingPoint() || e.DataType.ClrType() == typeof(byte);
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < e.Length; i++)
        {
            double x = ElementAsDouble(a, i), y = ElementAsDouble(e, i);
            bool ok;
            if (exact) ok = x.Equals(y) || (double.IsNaN(x) && double.IsNaN(y));
            else if (double.IsNaN(y)) ok = double.IsNaN(x);
            else if (double.IsInfinity(y)) ok = x == y;
            else ok = Math.Abs(x - y) <= atol + rtol * Math.Abs(y);
            if (!ok)
            {
                if (bad++ == 0) first = i;
                worst = Math.Max(worst, double.IsNaN(x) ? double.PositiveInfinity : Math.Abs(x - y));
            }
        }
        if (bad == 0) return null;
        return $"{bad} of {e.Length} elements differ (first at {first}: {ElementAsDouble(a, first):G9} vs expected {ElementAsDouble(e, first):G9}; largest difference {worst:G3}; rtol {rtol}, atol {atol})";
    }

    internal static double ElementAsDouble(Tensor t, int i) => t.DataType.ClrType() == typeof(byte) && t.DataType != DataType.UInt8 && t.DataType != DataType.UInt4 && t.DataType != DataType.UInt2
        ? t.AsSpan<byte>()[i] // 8-bit and 4-bit floats compare bit patterns exactly
        : t.GetDouble(i);
}
