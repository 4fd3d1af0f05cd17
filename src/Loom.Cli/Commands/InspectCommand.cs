using System.CommandLine;

namespace Loom.Cli.Commands;

internal static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var cmd = new Command("inspect", "show a model's opsets, inputs and outputs, operators, parameters and FLOPs") { model };
        cmd.SetAction(parse => { Console.WriteLine("TODO"); return 0; });
        return cmd;
    }
}
