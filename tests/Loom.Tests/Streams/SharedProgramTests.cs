using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Every program in the shared StreamIt folder prints its expected output (made by the MIT compiler's C, not by
/// anyone on the project) on its first 10,000 lines, under the folder README's comparison rule, on 1 and 2 cores.
/// </summary>
public class SharedProgramTests
{
    private const int Lines = 10_000;

    // The README's integer-only programs, compared token for token (-x).
    private static readonly HashSet<string> Exact =
    [
        "compcount", "radixsort", "simple-peek", "simple-twostage", "prework-test1", "sj-endjoin", "sj-simplesplit",
        "sj-startsplit", "fission-test1", "fib", "fib2", "fib-feed", "cookbook-fib", "feedback-test2", "serpent",
    ];

    public static string[] Names() =>
    [
        "autocor", "beamformer", "compcount", "dct", "fft2", "figure1", "matmul", "radixsort", "serpent", "simple-peek",
        "simple-twostage", "struct", "prework-test1", "sj-endjoin", "sj-simplesplit", "sj-startsplit", "fib", "fib2",
        "fib-feed", "cookbook-fib", "cookbook-echo", "feedback-test1", "feedback-test2", "complexid", "fission-test1", "weighted-rr",
    ];

    public static TheoryData<string, int> Programs()
    {
        var data = new TheoryData<string, int>();
        foreach (var n in Names())
            foreach (var cores in new[] { 1, 2 })
                data.Add(n, cores);
        return data;
    }

    /// <summary>A shared program's source files, the main program first (feedback-test1 takes two library files, as strc does).</summary>
    public static List<SourceFile> Files(string name)
    {
        var dir = SharedData.Require("streamit", name);
        var strs = Directory.GetFiles(dir, "*.str").OrderBy(f => f, StringComparer.Ordinal)
            .OrderBy(f => Path.GetFileName(f) is "FloatSeqSource.str" or "FloatPrinter.str" ? 1 : 0);
        return strs.Select(SourceFile.Read).ToList();
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void PrintsTheExpectedOutput(string name, int cores)
    {
        var dir = SharedData.Require("streamit", name);
        var expected = File.ReadAllLines(Path.Combine(dir, "expected.txt"));
        Assert.Equal(Lines, expected.Length);
        var actual = StreamHarness.Run(Files(name), Lines, cores);
        Assert.Equal(Lines, actual.Length);
        Assert.Null(StreamHarness.Compare(expected, actual, Lines, Exact.Contains(name)));
    }
}
