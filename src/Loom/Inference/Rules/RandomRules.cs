using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of the random generators: the values are random, the dtype and shape are not.</summary>
[ShapeRules]
internal static class RandomRules
{
    public static void Register(ShapeRules r)
    {
        r.Add(["RandomNormal", "RandomUniform"], FromAttributes);
        r.Add(["RandomNormalLike", "RandomUniformLike", "Bernoulli"], LikeInput);
        r.Add("Multinomial", Multinomial);
    }

    private static void FromAttributes(InferenceContext ctx)
    {
        var shape = ctx.GetInts("shape") ?? throw ctx.Fail($"{ctx.Node.OpType} needs the 'shape' attribute");
        ctx.SetOutput(0, (DataType)ctx.GetInt("dtype", (long)DataType.Float), Shape.Of(shape.AsSpan()));
    }

    /// <summary>The input's shape; the dtype attribute, defaulting to the input's dtype.</summary>
    private static void LikeInput(InferenceContext ctx)
    {
        var dt = ctx.Node.HasAttribute("dtype") ? (DataType)ctx.GetInt("dtype", 0) : ctx.InputDataType(0);
        ctx.SetOutput(0, dt, ctx.InputShape(0));
    }

    /// <summary>[batch, classes] log-probabilities give [batch, sample_size] class indices.</summary>
    private static void Multinomial(InferenceContext ctx)
    {
        var dt = (DataType)ctx.GetInt("dtype", (long)DataType.Int32);
        var input = ctx.InputShape(0);
        if (input is not null && input.Rank != 2) throw ctx.Fail($"the input must be [batch, classes], not {input}");
        var batch = input?[0] ?? ctx.NewSymbol();
        ctx.SetOutput(0, dt, new Shape([batch, Dim.Of(ctx.GetInt("sample_size", 1))]));
    }
}
