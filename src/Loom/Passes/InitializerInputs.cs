using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Before IR version 4, ONNX required every initializer to be listed among the graph inputs too, and
/// such an input is a constant, not a value a caller feeds (ONNX Runtime accepts no feed for it). This
/// pass makes that explicit: those inputs leave the main graph's input list (they were never required
/// inputs) and the model declares IR version 4, where initializers need not be inputs — so the other
/// passes see the weights as the constants they are. Models from IR version 4 on are left as they are:
/// there an initializer that is also an input is a default a caller may override.
/// </summary>
public static class InitializerInputs
{
    public static Model Run(Model model)
    {
        var g = model.Graph;
        if (model.IrVersion >= 4 || !g.Inputs.Any(i => g.Initializers.ContainsKey(i.Name))) return model;
        var graph = g.WithInputs(g.Inputs.Where(i => !g.Initializers.ContainsKey(i.Name)));
        return new Model(graph, model.Opsets.Versions, irVersion: 4, model.ProducerName, model.ProducerVersion,
            model.Domain, model.ModelVersion, model.DocString, model.Metadata);
    }
}
