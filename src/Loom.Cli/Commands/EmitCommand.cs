using System.CommandLine;
using Loom.Emit;

namespace Loom.Cli.Commands;

/// <summary>
/// <c>loom emit MODEL --out Model.cs [--threads N] [--dim batch=B] [--class NAME]</c>: writes the schedule
/// Loom makes for the model as one readable C# file (<see cref="ProgramEmitter"/>) that compiles against
/// Loom.dll and computes what a session computes.
/// </summary>
internal static class EmitCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var output = new Option<string>("--out", "-o") { Description = "the C# file to write", Required = true };
        var threads = CliInputs.Threads();
        var dims = CliOptions.Dims();
        var className = new Option<string?>("--class") { Description = "name of the emitted class (default: the file name)" };
        var cmd = new Command("emit", "write the scheduled program as one C# file: a method per worker, explicit waits and signals")
            { model, output, threads, dims, className };
        cmd.SetAction(parse => CliOptions.Guard(() =>
        {
            string path = parse.GetValue(output)!;
            string name = parse.GetValue(className) ?? ClassNameOf(path);
            var settings = new EmitSettings(name, parse.GetValue(threads), CliOptions.ParseDims(parse.GetValue(dims)));
            ProgramEmitter.EmitToFile(parse.GetValue(model)!, settings, path);
            Console.WriteLine($"program ({settings.Namespace}.{name}, {settings.Threads} thread(s)) -> {path}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The file name without extension, made a C# identifier (Model.cs → Model, my-net.cs → my_net).</summary>
    private static string ClassNameOf(string path)
    {
        var stem = new string(Path.GetFileNameWithoutExtension(path).Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
        return stem.Length == 0 || char.IsDigit(stem[0]) ? "_" + stem : stem;
    }
}
