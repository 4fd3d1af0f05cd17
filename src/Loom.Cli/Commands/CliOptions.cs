using System.CommandLine;

namespace Loom.Cli.Commands;

/// <summary>Options and parsing shared by several commands.</summary>
internal static class CliOptions
{
    public static Option<string[]> Dims() => new("--dim")
    {
        Description = "give a symbolic dim a size, e.g. --dim batch=8 (repeatable)",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Parses NAME=VALUE pairs of --dim.</summary>
    /// <summary>NAME=NAME pairs (<c>--feedback OUTPUT=INPUT</c>), each left name once.</summary>
    public static Dictionary<string, string> ParsePairs(string option, string[]? pairs)
    {
        var r = new Dictionary<string, string>();
        foreach (var p in pairs ?? [])
        {
            var eq = p.IndexOf('=');
            if (eq <= 0 || eq == p.Length - 1) throw new InputException($"{option} '{p}' must look like OUTPUT=INPUT");
            if (!r.TryAdd(p[..eq], p[(eq + 1)..])) throw new InputException($"{option}: '{p[..eq]}' is given twice");
        }
        return r;
    }

    public static Dictionary<string, long> ParseDims(string[]? pairs)
    {
        var r = new Dictionary<string, long>();
        foreach (var p in pairs ?? [])
        {
            var eq = p.IndexOf('=');
            if (eq <= 0 || !long.TryParse(p[(eq + 1)..], out var v) || v < 0)
                throw new InputException($"--dim '{p}' must look like NAME=SIZE with SIZE a non-negative integer");
            r[p[..eq]] = v;
        }
        return r;
    }

    /// <summary>Runs a command body, turning Loom's errors into a one-line message and exit code 1.</summary>
    public static int Guard(Func<int> body)
    {
        try { return body(); }
        catch (LoomException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
