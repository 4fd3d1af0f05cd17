using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of Identity and Constant.</summary>
[ShapeRules]
internal static class BasicRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Identity", Identity);
        r.Add("Constant", Constant);
    }

    /// <summary>Same type as the input; a tracked shape value (Shape → Identity → Reshape) passes through too.</summary>
    private static void Identity(InferenceContext ctx)
    {
        ShapeHelpers.SameAsInput(ctx);
        if (ctx.ShapeValue(0) is { } v) ctx.SetShapeValue(0, v);
        if (ctx.ConstantInput(0) is { } c) ctx.SetConstant(0, c);
    }

    private static void Constant(InferenceContext ctx)
    {
        if (ConstantValue(ctx.Node) is not { } t) throw ctx.Fail("Constant has no value attribute");
        ctx.SetOutput(0, t.Type);
        ctx.SetConstant(0, t);
    }

    /// <summary>The tensor a Constant node produces, from whichever value attribute it has.</summary>
    public static Tensor? ConstantValue(Node n)
    {
        foreach (var a in n.Attributes)
        {
            switch (a.Name)
            {
                case "value": return a.AsTensor();
                case "value_float": return Tensor.Scalar(a.AsFloat());
                case "value_int": return Tensor.Scalar(a.AsInt());
                case "value_string": return Tensor.Scalar(a.AsString());
                case "value_floats": return Tensor.FromArray(a.AsFloats().ToArray(), a.AsFloats().Length);
                case "value_ints": return Tensor.FromArray(a.AsInts().ToArray(), a.AsInts().Length);
                case "value_strings": return Tensor.FromArray(a.AsStrings().ToArray(), a.AsStrings().Length);
            }
        }
        return null;
    }
}
