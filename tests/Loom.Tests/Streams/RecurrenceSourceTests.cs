using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Passes;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// <see cref="RecurrenceSource"/>: which filters are recognised (the shared benchmarks' random sources — a test that
/// fails if the transformation silently stops applying to them — and the forms they are written in), which are not,
/// and programs built on recognised sources printing what the recurrence stepped by hand gives, on the fused one-core
/// code, on the rings, and on two cores by unit alternation (where each core starts the source by random access).
/// </summary>
public class RecurrenceSourceTests
{
    private static StreamProgram Compile(string src) => StreamProgram.Compile([new SourceFile("p.str", src)], new Printer(null));

    private static RecurrenceSource? Recognised(StreamProgram p, string name) => p.Flat.Actors.Single(a => a.Name == name).Filter!.Recurrence;

    [Theory]
    [InlineData("autocor", "RandomSource", false, false)]
    [InlineData("beamformer", "RandomSource", false, false)]
    [InlineData("compcount", "RandomSource", false, false)]
    [InlineData("dct", "RandomSource", false, false)]
    [InlineData("fft2", "RandomSource", false, false)]
    [InlineData("figure1", "A", true, true)]
    [InlineData("matmul", "RandomSource", false, false)]
    [InlineData("radixsort", "RandomSource", false, false)]
    [InlineData("serpent", "RandomSource", false, false)]
    [InlineData("simple-peek", "RandomSource", false, false)]
    [InlineData("simple-twostage", "RandomSource", false, false)]
    public void TheBenchmarksRandomSourcesAreRecognised(string program, string source, bool after, bool abs)
    {
        var p = StreamProgram.Compile(SharedProgramTests.Files(program), new Printer(null));
        var sources = p.Flat.Actors.Where(a => a.Name == source).ToList();
        Assert.NotEmpty(sources);
        foreach (var a in sources)
        {
            var r = a.Filter!.Recurrence;
            Assert.NotNull(r);
            Assert.Equal((65793, 4282663, 23), (r.Recurrence.A, r.Recurrence.C, r.Recurrence.K));
            Assert.Equal((after, abs), (r.After, r.Abs));
        }
    }

    [Theory]
    [InlineData("autocor")]
    [InlineData("figure1")]
    [InlineData("matmul")]
    public void TwoCoresStartTheSourceByRandomAccess(string program)
    {
        var p = StreamProgram.Compile(SharedProgramTests.Files(program), new Printer(null));
        var work = p.Flat.Actors.Select(a => 1e-7).ToArray();
        var choice = AlternationChoice.Decide(p.Flat, p.Schedule, work, 2, ParallelMode.Alternate);
        Assert.True(choice.Alternate, choice.Reason);
        var src = p.Flat.Actors.First(a => a.Filter?.Recurrence is not null);
        Assert.True(choice.Indexed[src.Index], choice.Reason);
        Assert.False(choice.Sources[src.Index] || choice.Replicated[src.Index], choice.Reason);
    }

    private const string Printer = "int->void stateful filter P { work pop 1 { println(pop()); } }";

    [Theory]
    [InlineData("s = (65793 * s + 4282663) % 8388608;", true)]
    [InlineData("s = (s * 65793 + 4282663) % 8388608;", true)]
    [InlineData("s = (4282663 + 65793 * s) % 8388608;", true)]
    [InlineData("s = (65793 * s - 77) % 1048576;", true)]
    [InlineData("s = (65793 * s) % 1024;", true)]
    [InlineData("s = (65793 * s + 4282663) % 8388607;", false)]  // not a power of two
    [InlineData("s = (65793 * s + 4282663) % 8388608; s = s + 1;", false)]
    [InlineData("s = (65793 * s + t) % 8388608;", false)]        // a second field
    [InlineData("s = (65793 * s + 4282663) / 8388608;", false)]
    [InlineData("if (s > 3) s = (65793 * s + 4282663) % 8388608;", false)]
    [InlineData("s = (65793 * s * s + 4282663) % 8388608;", false)]
    public void OnlyTheStepFormIsRecognised(string step, bool recognised)
    {
        var src = $$"""
            void->void pipeline T { add S(); add P(); }
            void->int stateful filter S { int s = 5; int t = 3; work push 1 { push(s); {{step}} } }
            {{Printer}}
            """;
        if (!step.Contains('t', StringComparison.Ordinal)) src = src.Replace(" int t = 3;", "", StringComparison.Ordinal);
        Assert.Equal(recognised, Recognised(Compile(src), "S") is not null);
    }

    [Theory]
    [InlineData("push(s + 1); s = (65793 * s + 4282663) % 8388608;")]
    [InlineData("push(s); push(s); s = (65793 * s + 4282663) % 8388608;")]
    [InlineData("push(s < 0 ? s : -s); s = (65793 * s + 4282663) % 8388608;")]
    public void OtherPushesAreNotRecognised(string work)
    {
        int pushes = work.Split("push(").Length - 1;
        var src = $$"""
            void->void pipeline T { add S(); add P(); }
            void->int stateful filter S { int s = 5; work push {{pushes}} { {{work}} } }
            {{Printer}}
            """;
        Assert.Null(Recognised(Compile(src), "S"));
    }

    /// <summary>Sources in the recognised forms (seeds that go negative; a first seed outside (−M, M); the helper form; float output).</summary>
    public static TheoryData<string, int, int, int, int, bool, bool, bool> Sources => new()
    {
        { "push(s); s = (65793 * s + 4282663) % 8388608;", 65793, 4282663, 23, 0, false, false, false },
        { "s = (s * -1103515245 + 12345) % 1048576; push(s);", -1103515245, 12345, 20, 7, true, false, false },
        { "push(f());", 65793, 4282663, 23, -2147483648, true, true, true },
        { "push(s); s = (1103515245 * s - 12345) % 131072;", 1103515245, -12345, 17, 1234567891, false, false, false },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void ProgramsPrintTheSerialRecurrence(string work, int a, int c, int k, int seed, bool after, bool abs, bool floats)
    {
        string type = floats ? "float" : "int";
        var src = $$"""
            void->void pipeline T { add S(); add Twice(); add P(); }
            void->{{type}} stateful filter S {
              int s = {{seed}};
              work push 1 { {{work}} }
              {{type}} f() { s = ({{a}} * s + {{c}}) % {{1 << k}}; return s < 0 ? -s : s; }
            }
            {{type}}->{{type}} filter Twice { work pop 1 push 1 { push(pop() * 2); } }
            {{type}}->void stateful filter P { work pop 1 { println(pop()); } }
            """;
        Assert.NotNull(Recognised(Compile(src), "S"));
        const int lines = 70_000;
        var expected = new string[lines];
        int s = seed;
        for (int i = 0; i < lines; i++)
        {
            int next = unchecked(a * s + c) % (1 << k);
            int v = after ? next : s;
            if (abs && v < 0) v = -v;
            expected[i] = floats ? ((float)v * 2).ToString("F6", CultureInfo.InvariantCulture) : unchecked(v * 2).ToString(CultureInfo.InvariantCulture);
            s = next;
        }
        Assert.Equal(expected, StreamHarness.RunSequential(src, lines, fuse: true));
        Assert.Equal(expected, StreamHarness.RunSequential(src, lines, fuse: false));
        var two = StreamHarness.Run([new SourceFile("p.str", src)], lines, 2, long.MaxValue, ParallelMode.Alternate);
        Assert.Equal(expected, two[..lines]);
    }

    /// <summary>
    /// A peeking consumer keeps the source's last item between units: on two cores each core writes it to the front of
    /// its own unit by random access (the source is not replicated). Long enough for several units of alternation.
    /// </summary>
    [Theory]
    [InlineData("int")]
    [InlineData("float")]
    public void KeptItemsOfAPeekingConsumerAreRegeneratedOnTwoCores(string type)
    {
        var src = $$"""
            void->void pipeline T { add S(); add Avg(); add P(); }
            void->{{type}} stateful filter S { int s = 0; work push 1 { push(s); s = (65793 * s + 4282663) % 8388608; } }
            {{type}}->{{type}} filter Avg { work pop 1 push 1 peek 3 { push(peek(0) - peek(2) / 2); pop(); } }
            {{type}}->void stateful filter P { work pop 1 { println(pop()); } }
            """;
        const int lines = 200_000;
        var seeds = new int[lines + 2];
        for (int i = 1; i < seeds.Length; i++) seeds[i] = unchecked(65793 * seeds[i - 1] + 4282663) % 8388608;
        var expected = Enumerable.Range(0, lines).Select(i => type == "int"
            ? (seeds[i] - seeds[i + 2] / 2).ToString(CultureInfo.InvariantCulture)
            : ((float)seeds[i] - (float)seeds[i + 2] / 2).ToString("F6", CultureInfo.InvariantCulture)).ToArray();
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        var p = StreamProgram.Compile([new SourceFile("p.str", src)], new Printer(sw, lines));
        p.Mode = ParallelMode.Alternate;
        p.Run(2, long.MaxValue);
        Assert.Equal(expected, sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("recurrence sources started by random access: S", p.LastPartition!.Mode, StringComparison.Ordinal);
        Assert.DoesNotContain("replicated on every core: S", p.LastPartition.Mode, StringComparison.Ordinal);
        Assert.True(lines / 2 > ((UnitCount(p.LastPartition.Mode) ?? lines) * 1L), p.LastPartition.Mode);
    }

    /// <summary>Steady states per unit from the choice's text ("… of N steady state(s)").</summary>
    private static int? UnitCount(string mode) =>
        System.Text.RegularExpressions.Regex.Match(mode, @"of (\d+) steady state") is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
}
