using System.CommandLine;

namespace Loom.Cli.Commands;

internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var cmd = new Command("run", "run a model") { model };
        cmd.SetAction(parse => { Console.WriteLine("TODO"); return 0; });
        return cmd;
    }
}
