using Loom.Inference;
using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// The frame of the passes that rewrite into Loom's own operators (<see cref="ConvOps.LoomDomain"/>): types inferred first if
/// the model has none, the graph rewritten, and the model returned itself when nothing changed, else with the Loom domain's
/// opset declared.
/// </summary>
internal static class LoomOperatorRewrite
{
    /// <param name="rewrite">The model's graph rewritten (the same object when nothing changes); it may read the model's opsets.</param>
    public static Model Run(Model model, Func<Model, Graph> rewrite)
    {
        if (model.Graph.ValueTypes.IsEmpty) model = ShapeInference.Run(model);
        var graph = rewrite(model);
        if (ReferenceEquals(graph, model.Graph)) return model;
        var opsets = model.Opsets.Versions.SetItem(ConvOps.LoomDomain, 1);
        return new Model(graph, opsets, model.IrVersion, model.ProducerName, model.ProducerVersion, model.Domain, model.ModelVersion,
            model.DocString, model.Metadata);
    }
}
