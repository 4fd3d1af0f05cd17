using System.CommandLine;
using Loom.Import.Onnx;

namespace Loom.Cli.Commands;

/// <summary><c>loom convert MODEL.txt|MODEL.json -o MODEL.onnx</c>: a LightGBM or XGBoost model as standard ONNX-ML.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "a LightGBM text model (.txt) or XGBoost JSON model (.json)" };
        var output = new Option<string>("--output", "-o") { Description = "the .onnx file to write", Required = true };
        var numIteration = new Option<int>("--num-iteration") { Description = "keep only the first N boosting rounds (LightGBM's num_iteration)" };
        var cmd = new Command("convert", "write a LightGBM or XGBoost model as ONNX-ML (TreeEnsembleRegressor, or TreeEnsemble for categorical splits)") { model, output, numIteration };
        cmd.SetAction(parse => CliOptions.Guard(() =>
        {
            string path = parse.GetValue(model)!, target = parse.GetValue(output)!;
            var m = ModelFiles.Load(path, parse.GetValue(numIteration));
            using (LoomSession.Create(m)) { } // compile once, so a model Loom cannot run is not written
            OnnxExporter.Save(m, target);
            var node = m.Graph.Nodes[0];
            Console.WriteLine($"{path} -> {target}: {node.Domain}.{node.OpType}, {m.Graph.Inputs[0].Type} -> {m.Graph.Outputs[0].Type}");
            return 0;
        }));
        return cmd;
    }
}
