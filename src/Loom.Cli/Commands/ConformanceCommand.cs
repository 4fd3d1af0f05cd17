using System.CommandLine;
using Loom.Conformance;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary><c>loom conformance DIR...</c>: runs ONNX backend test cases and prints a per-operator table.</summary>
internal static class ConformanceCommand
{
    public static Command Create()
    {
        var dirs = new Argument<string[]>("dirs") { Description = "case folders, or folders holding them (recursively)", Arity = ArgumentArity.OneOrMore };
        var filter = new Option<string?>("--filter") { Description = "only cases whose name contains this text" };
        var verbose = new Option<bool>("--verbose") { Description = "print every case, not only failures" };
        var cmd = new Command("conformance", "run ONNX conformance cases and report passes, failures (with reasons) and skips") { dirs, filter, verbose };
        cmd.SetAction(parse => Run(parse.GetValue(dirs)!, parse.GetValue(filter), parse.GetValue(verbose)));
        return cmd;
    }

    private static int Run(string[] dirs, string? filter, bool verbose)
    {
        var cases = dirs.SelectMany(ConformanceRunner.FindCases)
            .Where(c => filter is null || Path.GetFileName(c).Contains(filter, StringComparison.Ordinal)).ToList();
        var results = new List<CaseResult>();
        foreach (var c in cases)
        {
            var r = ConformanceRunner.Run(c);
            results.Add(r);
            if (r.Status == CaseStatus.Failed || verbose)
                Console.WriteLine($"{r.Status.ToString().ToUpperInvariant(),-7} {r.Name}{(r.Reason is null ? "" : ": " + r.Reason)}");
        }

        var table = new Table().Border(TableBorder.Simple).AddColumns("operator", "passed", "failed", "skipped");
        foreach (var g in results.SelectMany(r => (r.OpTypes.Count == 0 ? ["?"] : r.OpTypes).Select(op => (op, r))).GroupBy(x => x.op).OrderBy(g => g.Key, StringComparer.Ordinal))
            table.AddRow(Markup.Escape(g.Key),
                g.Count(x => x.r.Status == CaseStatus.Passed).ToString(),
                g.Count(x => x.r.Status == CaseStatus.Failed).ToString(),
                g.Count(x => x.r.Status == CaseStatus.Skipped).ToString());
        AnsiConsole.Write(table);
        foreach (var s in results.Where(r => r.Status == CaseStatus.Skipped))
            Console.WriteLine($"SKIPPED {s.Name}: {s.Reason}");
        int passed = results.Count(r => r.Status == CaseStatus.Passed), failed = results.Count(r => r.Status == CaseStatus.Failed), skipped = results.Count(r => r.Status == CaseStatus.Skipped);
        if (results.Count > 0)
            Console.WriteLine($"slowest load: {results.Max(r => r.LoadMilliseconds):F1} ms ({results.MaxBy(r => r.LoadMilliseconds)!.Name})");
        Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
        return failed == 0 ? 0 : 1;
    }
}
