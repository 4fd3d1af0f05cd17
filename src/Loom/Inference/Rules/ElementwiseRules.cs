using Loom.IR;
using Loom.Kernels.Common;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of the elementwise family: unary ops, broadcasting binary and variadic ops, Where, Cast, Dropout, Bernoulli.</summary>
[ShapeRules]
internal static class ElementwiseRules
{
    private static readonly string[] SameAsInputOps =
    [
        "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign",
        "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Erf",
        "Not", "BitwiseNot", "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish",
        "Softplus", "Softsign", "Tanh", "Gelu", "Mish", "ThresholdedRelu", "Shrink", "Clip",
    ];

    private static readonly string[] BroadcastOps = ["Pow", "Mod", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Sum", "Mean"];
    private static readonly string[] BoolBroadcastOps = ["Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor"];

    public static void Register(ShapeRules r)
    {
        r.Add(SameAsInputOps, ShapeHelpers.SameAsInput);
        r.Add(["IsNaN", "IsInf"], ctx => ctx.SetOutput(0, DataType.Bool, ctx.InputShape(0)));
        r.Add(BroadcastOps, ctx => Broadcast(ctx, null));
        r.Add(BoolBroadcastOps, ctx => Broadcast(ctx, DataType.Bool));
        r.Add("Add", ctx => { Broadcast(ctx, null); ElementwiseShapeValues.Binary(ctx, (a, b) => a + b); });
        r.Add("Sub", ctx => { Broadcast(ctx, null); ElementwiseShapeValues.Binary(ctx, (a, b) => a - b); });
        r.Add("Mul", ctx => { Broadcast(ctx, null); ElementwiseShapeValues.Binary(ctx, (a, b) => a * b); });
        r.Add("Div", ctx => { Broadcast(ctx, null); ElementwiseShapeValues.Binary(ctx, ElementwiseShapeValues.TruncatedDivide); });
        r.Add("Equal", ctx => { Broadcast(ctx, DataType.Bool); ElementwiseShapeValues.Binary(ctx, ElementwiseShapeValues.Equal); });
        r.Add("Max", ctx => { Broadcast(ctx, null); ElementwiseShapeValues.Variadic(ctx, Dim.Max); });
        r.Add("Min", ctx => { Broadcast(ctx, null); ElementwiseShapeValues.Variadic(ctx, Dim.Min); });
        r.Add("PRelu", ctx => { if (ctx.Opset < 7) ShapeHelpers.SameAsInput(ctx); else Broadcast(ctx, null); });
        r.Add("Where", Where);
        r.Add("Cast", Cast);
        r.Add("CastLike", CastLike);
        r.Add("Dropout", Dropout);
        r.Add("Bernoulli", ctx => ctx.SetOutput(0, ctx.Node.HasAttribute("dtype") ? (DataType)ctx.GetInt("dtype", 1) : ctx.InputDataType(0), ctx.InputShape(0)));
    }

    /// <summary>
    /// NumPy broadcast of all inputs; the dtype is input 0's unless given. Before opset 7 with
    /// <c>broadcast=1</c>, B is broadcast to A, so the output has A's shape.
    /// </summary>
    private static void Broadcast(InferenceContext ctx, DataType? outputType)
    {
        if (ctx.Opset < 7 && ctx.GetInt("broadcast", 0) != 0)
            ctx.SetOutput(0, outputType ?? ctx.InputDataType(0), ctx.InputShape(0));
        else
            ShapeHelpers.BroadcastElementwise(ctx, outputType);
    }

    private static void Where(InferenceContext ctx)
    {
        ShapeHelpers.BroadcastElementwise(ctx, ctx.InputDataType(1));
        ElementwiseShapeValues.Where(ctx);
    }

    private static void Cast(InferenceContext ctx)
    {
        var to = ElementwiseCastTarget.Of(ctx.Node, out var error) ?? throw ctx.Fail(error);
        ctx.SetOutput(0, to, ctx.InputShape(0));
        ElementwiseShapeValues.Cast(ctx, to);
    }

    private static void CastLike(InferenceContext ctx) => ctx.SetOutput(0, ctx.InputDataType(1), ctx.InputShape(0));

    /// <summary>Output: the input's type. Mask: the input's shape, bool since opset 10 (the input's type before).</summary>
    private static void Dropout(InferenceContext ctx)
    {
        ShapeHelpers.SameAsInput(ctx);
        ctx.SetOutput(1, ctx.Opset >= 10 ? DataType.Bool : ctx.InputDataType(0), ctx.InputShape(0));
    }
}
