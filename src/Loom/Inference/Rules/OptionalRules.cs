using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of Optional, OptionalHasElement and OptionalGetElement.</summary>
[ShapeRules]
internal static class OptionalRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Optional", Optional);
        r.Add("OptionalHasElement", ctx => ctx.SetOutput(0, DataType.Bool, Shape.Scalar));
        r.Add("OptionalGetElement", OptionalGetElement);
    }

    private static void Optional(InferenceContext ctx)
    {
        var element = ctx.HasInput(0) ? ctx.InputType(0) : ctx.Node.GetAttribute("type")?.AsType()
            ?? throw ctx.Fail("an Optional without input needs the 'type' attribute");
        if (element is not null) ctx.SetOutput(0, new OptionalType(element));
    }

    /// <summary>From opset 18 the input may also be a plain tensor or sequence, passed through.</summary>
    private static void OptionalGetElement(InferenceContext ctx) => ctx.SetOutput(0, ControlFlowTypeMerging.Unwrap(ctx.InputType(0)));
}
