using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Every program in the shared StreamIt folder prints its expected output (made by the MIT compiler's C, not by
/// anyone on the project) on its first 10,000 lines, under the folder README's comparison rule, on 1 and 2 cores
/// (the pipeline, and unit alternation where the program's stateful filters allow it).
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

    // Programs whose stateful filters are a source and a sink: unit alternation is forced on them at 2 cores as well
    // (beamformer is not: its printers push, so the mode must decline, and the run falls back to the pipeline).
    private static readonly string[] Alternating =
        ["autocor", "beamformer", "compcount", "dct", "fft2", "figure1", "matmul", "radixsort", "simple-peek", "simple-twostage", "fib"];

    /// <summary>The alternating programs with cores claiming units (<see cref="StreamProgram.ClaimUnits"/>).</summary>
    public static TheoryData<string> AlternatingPrograms() => [.. Alternating];

    [Theory]
    [MemberData(nameof(AlternatingPrograms))]
    public void PrintsTheExpectedOutputWithClaimedUnits(string name)
    {
        var expected = File.ReadAllLines(Path.Combine(SharedData.Require("streamit", name), "expected.txt"));
        var actual = StreamHarness.Run(Files(name), Lines, 2, mode: ParallelMode.Alternate, claimUnits: true);
        Assert.Equal(Lines, actual.Length);
        Assert.Null(StreamHarness.Compare(expected, actual, Lines, Exact.Contains(name)));
    }

    public static TheoryData<string, int, ParallelMode> Programs()
    {
        var data = new TheoryData<string, int, ParallelMode>();
        foreach (var n in Names())
        {
            data.Add(n, 1, ParallelMode.Auto);
            data.Add(n, 2, ParallelMode.Pipeline);
            if (Alternating.Contains(n)) data.Add(n, 2, ParallelMode.Alternate);
        }
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
    public void PrintsTheExpectedOutput(string name, int cores, ParallelMode mode)
    {
        var dir = SharedData.Require("streamit", name);
        var expected = File.ReadAllLines(Path.Combine(dir, "expected.txt"));
        Assert.Equal(Lines, expected.Length);
        var actual = StreamHarness.Run(Files(name), Lines, cores, mode: mode);
        Assert.Equal(Lines, actual.Length);
        Assert.Null(StreamHarness.Compare(expected, actual, Lines, Exact.Contains(name)));
    }
}
