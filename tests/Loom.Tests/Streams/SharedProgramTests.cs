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

    public static TheoryData<string, int> Programs()
    {
        string[] names =
        [
            "autocor", "beamformer", "compcount", "dct", "fft2", "figure1", "matmul", "radixsort", "serpent", "simple-peek",
            "simple-twostage", "struct", "prework-test1", "sj-endjoin", "sj-simplesplit", "sj-startsplit", "fib", "fib2",
            "fib-feed", "cookbook-fib", "cookbook-echo", "feedback-test1", "feedback-test2", "complexid", "fission-test1", "weighted-rr",
        ];
        var data = new TheoryData<string, int>();
        foreach (var n in names)
            foreach (var cores in new[] { 1, 2 })
                data.Add(n, cores);
        return data;
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void PrintsTheExpectedOutput(string name, int cores)
    {
        var dir = SharedData.Require("streamit", name);
        var strs = Directory.GetFiles(dir, "*.str").OrderBy(f => f, StringComparer.Ordinal).ToList();
        // feedback-test1 is compiled with its two library files, the main program first (as strc takes them).
        strs = [.. strs.OrderBy(f => Path.GetFileName(f) is "FloatSeqSource.str" or "FloatPrinter.str" ? 1 : 0)];
        var expected = File.ReadAllLines(Path.Combine(dir, "expected.txt"));
        Assert.Equal(Lines, expected.Length);
        var actual = StreamHarness.Run(strs.Select(SourceFile.Read).ToList(), Lines, cores);
        Assert.Equal(Lines, actual.Length);
        Assert.Null(StreamHarness.Compare(expected, actual, Lines, Exact.Contains(name)));
    }
}
