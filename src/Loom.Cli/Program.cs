using System.CommandLine;
using Loom.Cli.Commands;

var root = new RootCommand("Loom: an ML model compiler and multicore runtime for ONNX models");
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ConformanceCommand.Create());
root.Subcommands.Add(OptimizeCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(ScoreCommand.Create());
root.Subcommands.Add(WorkloadCommand.Create());
root.Subcommands.Add(ExplainCommand.Create());
root.Subcommands.Add(EmitCommand.Create());
root.Subcommands.Add(BatchBenchCommand.Create());
root.Subcommands.Add(StreamCommand.Create());
root.Subcommands.Add(SiloCommand.Create());
root.Subcommands.Add(SiloCommand.CreateInit());
root.Subcommands.Add(JobsCommand.Create());
return root.Parse(args).Invoke();
