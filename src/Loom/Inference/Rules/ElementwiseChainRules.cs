using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>com.loom ElementwiseChain (Passes/FuseElementwiseChains): the output has X's dtype and shape, as every op of the chain keeps them.</summary>
[ShapeRules]
internal static class ElementwiseChainRules
{
    public static void Register(ShapeRules r) =>
        r.Add("ElementwiseChain", ctx => ctx.SetOutput(0, ctx.InputDataType(0), ctx.InputShape(0)), domain: Passes.FuseConvActivation.Domain);
}
