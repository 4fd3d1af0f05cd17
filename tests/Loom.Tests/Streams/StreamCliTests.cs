using System.Diagnostics;

namespace Loom.Tests.StreamTests;

/// <summary><c>loom stream</c> as a user runs it: output into a closed pipe, errors, --show.</summary>
public class StreamCliTests
{
    private const string Endless = """
        void->void pipeline Main { add Count(); add Print(); }
        void->int stateful filter Count { int i; work push 1 { push(i++); } }
        int->void filter Print { work pop 1 { println(pop()); } }
        """;

    private static string WriteProgram(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"loom-stream-{Guid.NewGuid():N}.str");
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("", 5)]
    [InlineData("--cores 2", 10_000)]
    [InlineData("--cores 2 (alternate)", 10_000)]
    public async Task ClosedOutputEndsTheRunQuietlyWithExitZero(string options, int lines)
    {
        // "(alternate)": unit alternation forced, so the closed pipe is noticed by whichever core prints the unit.
        string env = options.Contains("(alternate)", StringComparison.Ordinal) ? "LOOM_STREAM_MODE=alternate " : "";
        options = options.Replace(" (alternate)", "", StringComparison.Ordinal);
        var file = WriteProgram(Endless);
        try
        {
            var cli = Path.Combine(AppContext.BaseDirectory, "Loom.Cli.dll");
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add($"{env}dotnet '{cli}' stream '{file}' {options} | head -n {lines}; echo \"loom exit ${{PIPESTATUS[0]}}\"");
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            // The program never ends by itself: only noticing the closed pipe stops it.
            Assert.True(p.WaitForExit(60_000), "loom stream kept running after its output was closed");
            Assert.Equal(string.Concat(Enumerable.Range(0, lines).Select(i => $"{i}\n")) + "loom exit 0\n", await stdout);
            Assert.Equal("", await stderr);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void IterationsAndErrors()
    {
        var file = WriteProgram(Endless);
        var bad = WriteProgram("void->void filter F { work { println(1) } }");
        try
        {
            var (exit, output, _) = Support.CliRunner.Run("stream", file, "--iterations", "3", "--cores", "2");
            Assert.Equal(0, exit);
            Assert.Equal("0\n1\n2\n", output);
            var (badExit, _, err) = Support.CliRunner.Run("stream", bad);
            Assert.Equal(1, badExit);
            Assert.Contains($"{bad}:1:", err);
            var (_, schedule, _) = Support.CliRunner.Run("stream", file, "--show", "schedule");
            Assert.Contains("Count", schedule);
            Assert.Contains("x1", schedule);
        }
        finally
        {
            File.Delete(file);
            File.Delete(bad);
        }
    }
}
