using System.CommandLine;
using System.Globalization;
using Loom.Inference;
using Loom.IR;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary><c>loom inspect MODEL [--dim batch=8]</c>: opsets, inputs/outputs, operator histogram, parameters, FLOPs.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file (or a LightGBM .txt / XGBoost .json model)" };
        var dims = CliOptions.Dims();
        var text = new Option<bool>("--ir") { Description = "also print the whole graph in Loom's IR text form" };
        var lower = TreeLoweringOption.Create();
        var cmd = new Command("inspect", "show a model's opsets, inputs and outputs (symbolic shapes), operators, parameters and FLOPs") { model, dims, text, lower };
        cmd.SetAction(parse => CliOptions.Guard(() => Run(parse.GetValue(model)!, CliOptions.ParseDims(parse.GetValue(dims)), parse.GetValue(text), parse.GetValue(lower))));
        return cmd;
    }

    private static int Run(string path, Dictionary<string, long> dims, bool printIr, string? lower)
    {
        var model = ShapeInference.Run(ModelFiles.Load(path));
        if (lower is not null) model = ShapeInference.Run(TreeLoweringOption.Apply(model, lower));
        var g = model.Graph;
        Dim Bind(Dim d) => d.Substitute(s => dims.TryGetValue(s, out var v) ? Dim.Of(v) : null);
        string Show(IrType? t) => t is TensorType { Shape: { } s } tt
            ? tt.ElementType.Name() + new Shape(s.Dims.Select(Bind))
            : t?.ToString() ?? "?";

        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(Path.GetFileName(path))}[/]  producer {Markup.Escape(model.ProducerName)} {Markup.Escape(model.ProducerVersion)}, IR v{model.IrVersion}");
        AnsiConsole.MarkupLine("opsets: " + Markup.Escape(string.Join(", ", model.Opsets.Versions.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key.Length == 0 ? "ai.onnx" : kv.Key) + " " + kv.Value))));

        var io = new Table().Border(TableBorder.Simple).AddColumns("", "name", "type");
        foreach (var i in g.RequiredInputs) io.AddRow("input", Markup.Escape(i.Name), Markup.Escape(Show(i.Type)));
        foreach (var o in g.Outputs) io.AddRow("output", Markup.Escape(o.Name), Markup.Escape(Show(o.Type ?? g.TypeOf(o.Name))));
        AnsiConsole.Write(io);

        var symbols = g.RequiredInputs.SelectMany(i => (i.Type as TensorType)?.Shape?.Dims.SelectMany(d => d.Symbols) ?? []).Distinct().ToList();
        var unbound = symbols.Where(s => !dims.ContainsKey(s)).ToList();
        if (symbols.Count > 0)
            AnsiConsole.MarkupLine("symbolic dims: " + Markup.Escape(string.Join(", ", symbols.Select(s => dims.TryGetValue(s, out var v) ? $"{s}={v}" : s))));

        var hist = new Table().Border(TableBorder.Simple).AddColumns("operator", "count", "GFLOPs");
        long? Dim1(string s) => dims.TryGetValue(s, out var v) ? v : 1; // unbound symbols count as 1
        foreach (var grp in model.Graph.AllNodes().GroupBy(n => (n.Domain.Length > 0 ? n.Domain + "." : "") + n.OpType).OrderByDescending(x => x.Count()).ThenBy(x => x.Key, StringComparer.Ordinal))
        {
            long flops = grp.Where(n => g.Nodes.Contains(n)).Sum(n => FlopCounter.Count(n, g, Dim1) ?? 0);
            hist.AddRow(Markup.Escape(grp.Key), grp.Count().ToString(CultureInfo.InvariantCulture), (flops / 1e9).ToString("F3", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(hist);

        // Weights live in initializers or, in some exporters' output (Paddle's), in Constant nodes.
        var weights = g.Initializers.Values.Concat(model.Graph.AllNodes().Where(n => n.OpType == "Constant")
            .Select(Loom.Inference.Rules.BasicRules.ConstantValue).OfType<Tensor>()).ToList();
        long parameters = weights.Sum(t => (long)t.Length);
        long bytes = weights.Sum(t => (long)t.Length * t.DataType.ElementSize());
        AnsiConsole.MarkupLine($"parameters: {parameters:N0} ({bytes / 1048576.0:F2} MiB in {weights.Count} initializers and constants)");
        var total = FlopCounter.Total(g, Dim1, out int unknown);
        var note = unbound.Count > 0 ? $" (with {string.Join(", ", unbound)} = 1; give --dim NAME=SIZE)" : "";
        AnsiConsole.MarkupLine(Markup.Escape($"FLOPs: {total / 1e9:F3} G{note}{(unknown > 0 ? $", {unknown} nodes with unknown shapes not counted" : "")}"));
        if (printIr) Console.WriteLine(TextForm.FormatModel(model));
        return 0;
    }
}
