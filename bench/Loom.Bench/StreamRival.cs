using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Loom.Bench;

/// <summary>
/// The MIT compiler's one-core code for a program, built the way ../shared/streamit/mit-rival.sh builds it
/// (same gcc flags, same <c>maxSteadyIter</c> edit) but timed by the CPU time its process used (user + system,
/// read from the waiting shell's /proc entry) rather than the wall clock: on a machine shared with other work a
/// time slice lost to another process does not count, as with Loom's thread CPU time. core0.c is compiled once.
/// </summary>
internal sealed partial class StreamRival : IDisposable
{
    private readonly string _dir;
    private readonly int _outputsPerIteration;

    private StreamRival(string dir, int outputsPerIteration)
    {
        _dir = dir;
        _outputsPerIteration = outputsPerIteration;
    }

    /// <summary>Outputs the sink prints per steady state of the 1-core program (as mit-rival.sh lists them).</summary>
    private static readonly Dictionary<string, int> Outputs = new()
    {
        ["autocor"] = 128, ["beamformer"] = 8, ["compcount"] = 16, ["dct"] = 64, ["fft2"] = 64, ["matmul"] = 100,
        ["radixsort"] = 16, ["figure1"] = 2, ["simple-peek"] = 1, ["simple-twostage"] = 1,
    };

    /// <summary>Lines the rival prints per steady state (null: no rival), to turn its rate into steady states per second.</summary>
    public static int? LinesPerIteration(string name) => Outputs.TryGetValue(name, out int opi) ? opi : null;

    public static StreamRival? Build(string streamitDir, string name)
    {
        var tgz = Path.Combine(streamitDir, name, "mit-c.tgz");
        if (!File.Exists(tgz) || !Outputs.TryGetValue(name, out int opi)) return null;
        var dir = Directory.CreateTempSubdirectory("loom-rival-").FullName;
        var r = new StreamRival(dir, opi);
        if (Sh($"tar xzf '{tgz}' -C . && gcc -O2 -fwrapv -c barrier.c core0.c", dir) is null) { r.Dispose(); return null; }
        return r;
    }

    /// <summary>Outputs per CPU second over <paramref name="iterations"/> steady states, and the CPU seconds used.</summary>
    public (double Rate, double Seconds)? Run(long iterations)
    {
        var main = Path.Combine(_dir, "main.c");
        File.WriteAllText(main, MaxIter().Replace(File.ReadAllText(main), $"int maxSteadyIter = {iterations};"));
        if (Sh("gcc -O2 -fwrapv -c main.c && gcc -O2 -pthread main.o barrier.o core0.o -lstdc++ -lm -o smp1", _dir) is null) return null;
        // Fields 16 and 17 of the shell's stat are its waited-for children's user and system time, in clock ticks.
        var stat = Sh("./smp1 >/dev/null; cat /proc/$$/stat", _dir);
        if (stat is null) return null;
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double ticks = double.Parse(fields[13], CultureInfo.InvariantCulture) + double.Parse(fields[14], CultureInfo.InvariantCulture);
        double s = Math.Max(ticks, 1) / 100.0;
        return (iterations * _outputsPerIteration / s, s);
    }

    private static string? Sh(string command, string dir)
    {
        var psi = new ProcessStartInfo("sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) { Console.Error.WriteLine($"rival: {command}: {err.Result}"); return null; }
        return output;
    }

    [GeneratedRegex(@"int maxSteadyIter = \d+;")]
    private static partial Regex MaxIter();

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); }
        catch (IOException) { }
    }
}
