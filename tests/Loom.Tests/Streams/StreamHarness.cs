using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>Runs StreamIt source in-process and compares output under the shared README's rule.</summary>
internal static class StreamHarness
{
    /// <summary>Compiles <paramref name="source"/> (as file "test.str") and returns the first <paramref name="lines"/> lines it prints.</summary>
    public static string[] Run(string source, int lines, int cores = 1, long iterations = long.MaxValue) =>
        Run([new SourceFile("test.str", source)], lines, cores, iterations);

    public static string[] Run(IReadOnlyList<SourceFile> files, int lines, int cores = 1, long iterations = long.MaxValue, ParallelMode mode = ParallelMode.Auto,
        bool claimUnits = false)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var printer = new Printer(sw, lines);
        var p = StreamProgram.Compile(files, printer);
        p.Mode = mode;
        p.ClaimUnits = claimUnits;
        p.Run(cores, iterations);
        return sw.ToString().Split('\n', StringSplitOptions.None) is var all && all[^1].Length == 0 ? all[..^1] : sw.ToString().Split('\n');
    }

    /// <summary>Runs <paramref name="source"/> on the sequential runtime, fused or on the rings, and returns its first <paramref name="lines"/> lines (asserting there are that many).</summary>
    public static string[] RunSequential(string source, int lines, bool fuse)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = StreamProgram.Compile([new SourceFile("test.str", source)], new Printer(sw, lines));
        p.Fuse = fuse;
        p.RunSequential(long.MaxValue);
        var printed = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines, printed.Length);
        return printed;
    }

    public static StreamException CompileError(string source)
    {
        var sw = new StringWriter();
        return Assert.Throws<StreamException>(() => StreamProgram.Compile([new SourceFile("bad.str", source)], new Printer(sw, 100)).Run(1, 10));
    }

    /// <summary>
    /// The README's comparison: line by line, tokens split at blanks; numeric tokens match within 1e-5
    /// absolute or relative unless <paramref name="exact"/>; a missing line is a mismatch. Returns null or the first mismatch.
    /// </summary>
    public static string? Compare(string[] expected, string[] actual, int n, bool exact)
    {
        for (int i = 0; i < Math.Min(n, expected.Length); i++)
        {
            if (i >= actual.Length) return $"line {i + 1}: missing (expected '{expected[i]}')";
            var e = expected[i].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var a = actual[i].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            bool ok = e.Length == a.Length;
            for (int k = 0; ok && k < e.Length; k++)
            {
                if (e[k] == a[k]) continue;
                if (exact) { ok = false; break; }
                ok = double.TryParse(e[k], NumberStyles.Float, CultureInfo.InvariantCulture, out var ev)
                     && double.TryParse(a[k], NumberStyles.Float, CultureInfo.InvariantCulture, out var av)
                     && (Math.Abs(av - ev) <= 1e-5 || Math.Abs(av - ev) <= 1e-5 * Math.Abs(ev));
            }
            if (!ok) return $"line {i + 1}: expected '{expected[i]}', got '{actual[i]}'";
        }
        return null;
    }
}
