namespace Loom.Inference.Rules;

/// <summary>Shape rule of CumSum: the output has the input's type.</summary>
[ShapeRules]
internal static class CumSumRules
{
    public static void Register(ShapeRules r) => r.Add("CumSum", ShapeHelpers.SameAsInput);
}
