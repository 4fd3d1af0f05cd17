namespace Loom.Inference;

/// <summary>
/// The Register method of every class marked <see cref="ShapeRulesAttribute"/>, listed rather than found by scanning the
/// assembly: the scan (<c>Assembly.GetTypes</c> over Loom's ~2,200 types, then each one's attributes) cost every fresh
/// process ~30 ms of its load (24 ms and 6 ms, 2026-11-28), as it did for the kernels (<see cref="Kernels.KernelCatalog"/>).
/// A test checks this list against the scan, so a new rule class cannot be forgotten. The order is the scan's: a later
/// registration of the same operator replaces an earlier one.
/// </summary>
internal static class ShapeRulesCatalog
{
    public static readonly Action<ShapeRules>[] All =
    [
        Rules.AttentionRules.Register,
        Rules.BasicRules.Register,
        Rules.ControlFlowRules.Register,
        Rules.ConvRules.Register,
        Rules.CumSumRules.Register,
        Rules.DetectionRules.Register,
        Rules.DetRules.Register,
        Rules.EinsumRules.Register,
        Rules.ElementwiseChainRules.Register,
        Rules.ElementwiseRules.Register,
        Rules.GatherScatterRules.Register,
        Rules.GemmRules.Register,
        Rules.ImageGridRules.Register,
        Rules.ImageResizeRules.Register,
        Rules.LossRules.Register,
        Rules.MatMulRules.Register,
        Rules.MlRules.Register,
        Rules.NormalizationRules.Register,
        Rules.OptionalRules.Register,
        Rules.PoolRules.Register,
        Rules.QuantRules.Register,
        Rules.RandomRules.Register,
        Rules.RecurrentRules.Register,
        Rules.ReduceRules.Register,
        Rules.RotaryEmbeddingRules.Register,
        Rules.SequenceRules.Register,
        Rules.ShapeGeneratorRules.Register,
        Rules.ShapePadRules.Register,
        Rules.ShapeReshapeRules.Register,
        Rules.ShapeSelectRules.Register,
        Rules.ShapeSliceRules.Register,
        Rules.ShapeTransposeRules.Register,
        Rules.SignalRules.Register,
        Rules.SoftmaxRules.Register,
        Rules.TextRules.Register,
        Rules.TopKRules.Register,
    ];
}
