using System.Globalization;
using System.Text.RegularExpressions;
using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// Mutated StreamIt sources (a token deleted, duplicated, swapped with its neighbour, or a name replaced by
/// another from the file) either run or fail with a LoomException — never another exception, never a hang.
/// </summary>
public class FuzzTests
{
    // One runnable program (a stateful source, a peeking filter, a split-join, a feedback loop with its delay),
    // so the test mutates something that runs even where the shared StreamIt programs are absent.
    private const string Seed = """
        void->void pipeline Main { add Src(3); add Mid(); add Loop(); add Sink(); }
        void->int stateful filter Src(int k) { int x; init { x = k; } work push 2 { push(x); x = x * 7 + 1; push(x % 100); } }
        int->int splitjoin Mid {
          split roundrobin(1, 1);
          add Twice(); add Identity<int>;
          join roundrobin(1, 1);
        }
        int->int filter Twice { work pop 1 peek 2 push 1 { int[4] a; a[0] = peek(1); push(pop() * 2 + a[0]); } }
        int->int feedbackloop Loop { join roundrobin(1, 1); body Twice(); loop Identity<int>; split roundrobin(1, 1); enqueue 1; enqueue 2; }
        int->void filter Sink { float s; work pop 2 { s = s + pop() / 3.0; println(s); println(pop() >> 2); } }
        """;

    private static readonly Regex TokenRx = new(@"[A-Za-z_][A-Za-z0-9_]*|\d+(\.\d+)?|->|\+\+|--|[<>=!]=|>>|<<|\S", RegexOptions.Compiled);

    [Fact]
    public void MutatedSourcesNeverCrashOrHang()
    {
        var sources = new List<string> { Seed };
        if (SharedData.Available)
            foreach (var name in new[] { "fib/Fib.str", "figure1/Figure1.str", "sj-simplesplit/SimpleSplit.str", "struct/Struct.str" })
                if (File.Exists(SharedData.Path_("streamit", name))) sources.Add(File.ReadAllText(SharedData.Path_("streamit", name)));
        var rng = new Random(20261126);
        int ran = 0, rejected = 0;
        for (int i = 0; i < 300; i++)
        {
            var src = sources[i % sources.Count];
            var mutated = Mutate(src, rng);
            var outcome = RunBounded(mutated, TimeSpan.FromSeconds(20));
            if (outcome is null) ran++;
            else if (outcome is LoomException) rejected++;
            else Assert.Fail($"mutation {i} threw {outcome.GetType().Name}: {outcome.Message}\n--- source ---\n{mutated}");
        }
        // Both outcomes occur: the mutations are neither all fatal nor all harmless.
        Assert.True(ran > 0 && rejected > 0, $"ran {ran}, rejected {rejected}");
    }

    private static string Mutate(string src, Random rng)
    {
        var tokens = TokenRx.Matches(src).Cast<Match>().ToList();
        var idents = tokens.Where(t => char.IsLetter(t.Value[0])).Select(t => t.Value).Distinct().ToList();
        int k = rng.Next(tokens.Count);
        var t = tokens[k];
        string before = src[..t.Index], after = src[(t.Index + t.Length)..];
        switch (rng.Next(4))
        {
            case 0: return before + " " + after;
            case 1: return before + t.Value + " " + t.Value + after;
            case 2 when k + 1 < tokens.Count:
                var u = tokens[k + 1];
                return src[..t.Index] + u.Value + src[(t.Index + t.Length)..u.Index] + t.Value + src[(u.Index + u.Length)..];
            default: return before + idents[rng.Next(idents.Count)] + after;
        }
    }

    /// <summary>Compiles and runs for at most 200 lines or 50 steady states; null if it ran, else what it threw.</summary>
    private static Exception? RunBounded(string source, TimeSpan limit)
    {
        Exception? thrown = null;
        var thread = new Thread(() =>
        {
            try
            {
                var p = StreamProgram.Compile([new SourceFile("fuzz.str", source)], new Printer(new StringWriter(CultureInfo.InvariantCulture), 200));
                p.Run(1, 50);
            }
            catch (Exception e) { thrown = e; }
        }, 16 << 20) { IsBackground = true };
        thread.Start();
        if (!thread.Join(limit)) Assert.Fail($"hang: still running after {limit.TotalSeconds} s\n--- source ---\n{source}");
        return thrown;
    }
}
