using System.CommandLine;
using Loom.Dynamic.Bench;

namespace Loom.Cli.Commands;

/// <summary><c>loom batch-bench</c>: the DyNet rival's TreeLSTM benchmark, same options and output line, run by Loom.</summary>
internal static class BatchBenchCommand
{
    public static Command Create()
    {
        var trees = new Option<string>("--trees") { Description = "SST trees file (e.g. ../shared/data/sst/train.txt), or the lattice file for latticegru; not used by tree6" };
        var hidden = new Option<int>("--hidden") { Description = "hidden (and embedding) size", DefaultValueFactory = _ => 128 };
        var perForward = new Option<int>("--per-forward") { Description = "trees per forward", DefaultValueFactory = _ => 64 };
        var batching = new Option<string>("--batching") { Description = "none|agenda|depth|fsm|static", DefaultValueFactory = _ => "static" };
        var mode = new Option<string>("--mode") { Description = "root|node|train", DefaultValueFactory = _ => "root" };
        var seconds = new Option<double>("--seconds") { Description = "timed seconds after the warm-up", DefaultValueFactory = _ => 5 };
        var count = new Option<int>("--count") { Description = "use the first N trees", DefaultValueFactory = _ => 1024 };
        var seed = new Option<ulong>("--seed") { Description = "shuffle and initialization seed", DefaultValueFactory = _ => 1UL };
        var model = new Option<string>("--model") { Description = "treelstm|tree6|latticegru|bilstm|dag", DefaultValueFactory = _ => "treelstm" };
        var threads = new Option<int>("--threads") { Description = "worker threads", DefaultValueFactory = _ => 1 };
        var trace = new Option<string?>("--trace") { Description = "write the first forward's batches as Chrome trace JSON (chrome://tracing, Perfetto)" };
        var cpu = new Option<bool>("--cpu") { Description = "time by the thread's CPU time (one thread), so time slices lost to other processes do not count" };
        var noDedup = new Option<bool>("--no-dedup") { Description = "static: do not share identical leaf computations within a forward" };
        var cells = new Option<bool>("--cells") { Description = "per-node policies: one graph node per cell (ED-Batch's blocks) instead of one per primitive" };
        var cmd = new Command("batch-bench", "run the DyNet rival's TreeLSTM benchmark with Loom's batching; prints the rival's line, kernel calls and bytes copied")
            { trees, hidden, perForward, batching, mode, seconds, count, seed, model, threads, noDedup, cells, trace, cpu };
        cmd.SetAction(parse => CliOptions.Guard(() =>
        {
            var r = TreeLstmBench.Run(new TreeLstmBenchOptions
            {
                Trees = parse.GetValue(trees) ?? (parse.GetValue(model) is "tree6" or "dag" ? "" : throw new InputException("--trees FILE is required")),
                Hidden = parse.GetValue(hidden),
                PerForward = parse.GetValue(perForward),
                Batching = parse.GetValue(batching)!,
                Mode = parse.GetValue(mode)!,
                Seconds = parse.GetValue(seconds),
                Count = parse.GetValue(count),
                Seed = parse.GetValue(seed),
                DedupLeaves = !parse.GetValue(noDedup),
                Cells = parse.GetValue(cells),
                Threads = parse.GetValue(threads),
                Model = parse.GetValue(model)!,
                Trace = parse.GetValue(trace),
                Cpu = parse.GetValue(cpu),
            }, Console.Error);
            Console.WriteLine(r);
            return 0;
        }));
        return cmd;
    }
}
