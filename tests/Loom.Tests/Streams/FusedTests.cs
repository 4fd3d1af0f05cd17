using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// The fused one-core runtime (linear buffers, splitters and joiners compiled to tables, filters sharing loops)
/// against hand-worked outputs and against the ring runtime, on run lengths that are not whole fused units,
/// so items go into the fused buffers after the initialization schedule and back to the rings for the rest.
/// </summary>
public class FusedTests
{
    private static string[] Run(IReadOnlyList<SourceFile> files, bool fuse, long iterations, int lines = int.MaxValue)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = StreamProgram.Compile(files, new Printer(sw, lines));
        p.Fuse = fuse;
        p.RunSequential(iterations);
        return sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    // A joiner whose output keeps items between steady states (the window filter peeks 2 beyond its pop) is
    // copied by table; the Identity and the splitter in front of it are compiled away.
    private const string Interleaved = """
        void->void pipeline P {
          add Src();
          add splitjoin { split roundrobin(1, 1); add Identity<int>(); add Neg(); join roundrobin(1, 1); };
          add Win();
          add Print();
        }
        void->int stateful filter Src { int i = 0; work push 1 { push(i); i++; } }
        int->int filter Neg { work pop 1 push 1 { push(-pop()); } }
        int->int filter Win { work pop 1 peek 3 push 1 { push(peek(0) + peek(1) + peek(2)); pop(); } }
        int->void stateful filter Print { work pop 1 { println(pop()); } }
        """;

    [Fact]
    public void PeekingAfterAJoinerMatchesHandWorkedValues()
    {
        // The joined stream is a(k) = k for even k, −k for odd k; Win prints a(j) + a(j+1) + a(j+2).
        static long A(long k) => k % 2 == 0 ? k : -k;
        foreach (long n in new long[] { 1, 7, 100, 1000 })
        {
            var lines = Run([new SourceFile("p.str", Interleaved)], fuse: true, n);
            Assert.Equal(Enumerable.Range(0, lines.Length).Select(j => (A(j) + A(j + 1) + A(j + 2)).ToString(CultureInfo.InvariantCulture)), lines);
            Assert.True(lines.Length >= n, $"{lines.Length} lines for {n} steady states");
        }
    }

    public static TheoryData<string> Programs() => new(SharedProgramTests.Names());

    [Theory]
    [MemberData(nameof(Programs))]
    public void SharedProgramPrintsWhatTheRingRuntimePrints(string name)
    {
        var files = SharedProgramTests.Files(name);
        // 203 steady states: not a whole number of fused units (a power of two), so the rings finish the run.
        var ring = Run(files, fuse: false, 203, 3000);
        var fused = Run(files, fuse: true, 203, 3000);
        Assert.Equal(ring, fused);
    }
}
