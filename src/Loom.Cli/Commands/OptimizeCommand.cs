using System.CommandLine;
using System.Globalization;
using Loom.Import.Onnx;
using Loom.Inference;
using Loom.IR;
using Loom.Passes;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary><c>loom optimize MODEL -o OUT.onnx [--level N]</c>: runs the graph passes, saves the result and shows what each pass changed.</summary>
internal static class OptimizeCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var output = new Option<string>("--output", "-o") { Description = "where to write the optimized .onnx file", Required = true };
        var level = new Option<int>("--level") { Description = "0 none, 1 basic (constant folding, dead code, common subexpressions), 2 also no-op removal and BatchNorm/Mul/Add folding", DefaultValueFactory = _ => 2 };
        var maxFold = new Option<long>("--max-fold-bytes") { Description = "largest tensor constant folding may create", DefaultValueFactory = _ => ConstantFolding.DefaultMaxTensorBytes };
        var loomOps = new Option<bool>("--loom-ops") { Description = "at level 2, also fuse into Loom's own operators (com.loom.FusedConv, ElementwiseChain): the saved model then runs only in Loom" };
        var cmd = new Command("optimize", "optimize a model's graph and save it as ONNX, printing node counts before and after each pass") { model, output, level, maxFold, loomOps };
        cmd.SetAction(parse => CliOptions.Guard(() => Run(parse.GetValue(model)!, parse.GetValue(output)!, parse.GetValue(level), parse.GetValue(maxFold), parse.GetValue(loomOps))));
        return cmd;
    }

    private static int Run(string path, string outPath, int level, long maxFoldBytes, bool loomOps)
    {
        if (level is < 0 or > 2) throw new InputException($"--level {level} must be 0, 1 or 2");
        var model = ShapeInference.Run(OnnxImporter.Load(path));
        Verifier.Verify(model);
        var report = new List<PassReport>();
        var optimized = PassPipeline.ForLevel(level, new PassOptions { MaxFoldedTensorBytes = maxFoldBytes, LoomOperators = loomOps }).Run(model, typesUpToDate: true, report);

        var table = new Table().Border(TableBorder.Simple).AddColumns("pass", "nodes", "initializers", "ms");
        foreach (var r in report)
            table.AddRow(Markup.Escape(r.Pass),
                $"{r.NodesBefore} -> {r.NodesAfter}", $"{r.InitializersBefore} -> {r.InitializersAfter}",
                r.Elapsed.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine($"nodes: {PassPipeline.CountNodes(model.Graph)} -> {PassPipeline.CountNodes(optimized.Graph)}");
        Console.WriteLine("operators after: " + string.Join(", ", optimized.Graph.AllNodes()
            .GroupBy(n => (n.Domain.Length > 0 ? n.Domain + "." : "") + n.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Count()}")));
        OnnxExporter.Save(optimized, outPath);
        Console.WriteLine($"wrote {outPath}");
        return 0;
    }
}
