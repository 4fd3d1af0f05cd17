namespace Loom.Conformance;

/// <summary>
/// Conformance cases whose outputs are random draws. Their stored values come from NumPy's generator, which
/// no other runtime reproduces, so an element-wise comparison fails — or, for a few elements, passes by chance.
/// These cases are checked on what the operator's definition fixes instead: dtype and shape equal the stored
/// output's, and every element lies in the distribution's support (Bernoulli: 0 or 1, certain where p is 0 or
/// 1; training-mode Dropout: each output is 0 or the input scaled by 1/(1 − ratio), and the mask says which).
/// </summary>
public static class RandomOutputs
{
    /// <summary>The check for a case, or null when its outputs are deterministic.</summary>
    public static Func<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>, string?>? CheckFor(string caseName) =>
        caseName.StartsWith("test_bernoulli", StringComparison.Ordinal) ? Bernoulli
        : caseName.StartsWith("test_training_dropout", StringComparison.Ordinal) && !caseName.Contains("zero_ratio") ? TrainingDropout
        : null;

    /// <summary>Compares one output's dtype and shape with the stored one; null when they agree.</summary>
    public static string? SameTypeAndShape(Tensor actual, Tensor expected) =>
        actual.DataType != expected.DataType ? $"dtype {actual.DataType.Name()}, expected {expected.DataType.Name()}"
        : !actual.Shape.SequenceEqual(expected.Shape) ? $"shape {ShapeMath.Format(actual.Shape)}, expected {ShapeMath.Format(expected.Shape)}"
        : null;

    private static string? Bernoulli(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> outputs)
    {
        Tensor p = inputs[0], y = outputs[0];
        if (y.Length != p.Length) return $"{y.Length} draws for {p.Length} probabilities";
        for (int i = 0; i < y.Length; i++)
        {
            double v = ValueComparer.ElementAsDouble(y, i), pi = ValueComparer.ElementAsDouble(p, i);
            if (v is not (0 or 1)) return $"element {i} is {v:G9}, not 0 or 1";
            if ((pi == 0 && v != 0) || (pi == 1 && v != 1)) return $"element {i} is {v} with probability {pi}";
        }
        return null;
    }

    private static string? TrainingDropout(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> outputs)
    {
        Tensor x = inputs[0], y = outputs[0];
        double ratio = inputs.Count > 1 ? ValueComparer.ElementAsDouble(inputs[1], 0) : 0.5;
        double scale = 1 / (1 - ratio);
        Tensor? mask = outputs.Count > 1 ? outputs[1] : null;
        for (int i = 0; i < y.Length; i++)
        {
            double xi = ValueComparer.ElementAsDouble(x, i), yi = ValueComparer.ElementAsDouble(y, i);
            bool kept = Math.Abs(yi - xi * scale) <= 1e-6 * Math.Abs(xi * scale) + 1e-7;
            if (!kept && yi != 0) return $"element {i} is {yi:G9}: neither 0 nor the input {xi:G9} × {scale:G6}";
            if (mask is null) continue;
            bool marked = ValueComparer.ElementAsDouble(mask, i) != 0;
            if (marked ? !kept : yi != 0) return $"mask element {i} is {marked} for output {yi:G9} from input {xi:G9}";
        }
        return null;
    }
}
