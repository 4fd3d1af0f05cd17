using System.CommandLine;
using Loom.Import.Onnx;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom convert MODEL.txt|MODEL.json|MODEL.onnx -o MODEL.onnx [--lower STRATEGY]</c>: a LightGBM or XGBoost model as
/// standard ONNX-ML, or with <c>--lower</c> any tree model as a plain-ONNX tensor program.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "a LightGBM text model (.txt), XGBoost JSON model (.json) or ONNX model (.onnx)" };
        var output = new Option<string>("--output", "-o") { Description = "the .onnx file to write", Required = true };
        var numIteration = new Option<int>("--num-iteration") { Description = "keep only the first N boosting rounds (LightGBM's num_iteration)" };
        var lower = TreeLoweringOption.Create();
        var cmd = new Command("convert", "write a LightGBM or XGBoost model as ONNX-ML (TreeEnsembleRegressor, or TreeEnsemble for categorical splits), or with --lower as standard ONNX operators") { model, output, numIteration, lower };
        cmd.SetAction(parse => CliOptions.Guard(() =>
        {
            string path = parse.GetValue(model)!, target = parse.GetValue(output)!;
            var m = ModelFiles.Load(path, parse.GetValue(numIteration));
            if (parse.GetValue(lower) is { } strategy) m = TreeLoweringOption.Apply(m, strategy);
            using (LoomSession.Create(m)) { } // compile once, so a model Loom cannot run is not written
            OnnxExporter.Save(m, target);
            var ops = string.Join(", ", m.Graph.Nodes.GroupBy(n => (n.Domain.Length > 0 ? n.Domain + "." : "") + n.OpType).Select(g => g.Count() > 1 ? $"{g.Key} x{g.Count()}" : g.Key));
            Console.WriteLine($"{path} -> {target}: {ops}; {m.Graph.Inputs[0].Type} -> {m.Graph.Outputs[0].Type}");
            return 0;
        }));
        return cmd;
    }
}
