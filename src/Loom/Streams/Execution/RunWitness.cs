using System.Diagnostics;
using System.Globalization;

namespace Loom.Streams.Execution;

/// <summary>
/// What else ran while a multi-core run ran (LOOM_STREAM_PIPE_STATS=1, Linux): its wall time, the whole machine's busy
/// CPU seconds (/proc/stat) and the CPU of each of this process's threads (/proc/self/task). A wall-clock speedup at two
/// cores means something only when the machine's busy time is the run's own threads': AutoCor's unit alternation looked
/// 1.04x one core in the stream bench because the runtime's tiered-compilation thread took 0.3-0.5 s of a core during
/// its 1 s run, which per-core CPU minus waiting cannot show.
/// </summary>
internal sealed class RunWitness
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly double _busy = MachineBusy();
    private readonly Dictionary<string, double> _threads = Threads();

    /// <summary>One line for the run, then a line per thread of this process that used more than 10 ms of CPU meanwhile.</summary>
    public string Report(string what, double ownCpu)
    {
        var s = new System.Text.StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{what} in {Stopwatch.GetElapsedTime(_start).TotalSeconds:F3} s wall; machine busy {MachineBusy() - _busy:F2} s of CPU, the cores' threads {ownCpu:F3} s");
        foreach (var (id, cpu) in Threads())
            if (cpu - _threads.GetValueOrDefault(id) > 0.01)
                s.Append(CultureInfo.InvariantCulture, $"\n  thread {id}: {cpu - _threads.GetValueOrDefault(id):F2} s");
        return s.ToString();
    }

    /// <summary>CPU seconds of each thread of this process ("tid name"), empty where /proc is not there.</summary>
    private static Dictionary<string, double> Threads()
    {
        var d = new Dictionary<string, double>();
        try
        {
            foreach (var t in Directory.GetDirectories("/proc/self/task"))
            {
                // "tid (name) state ..."; utime and stime are fields 14 and 15, in clock ticks (100 per second).
                var st = File.ReadAllText(t + "/stat");
                int close = st.LastIndexOf(')');
                var f = st[(close + 2)..].Split(' ');
                d[Path.GetFileName(t) + " " + st[(st.IndexOf('(') + 1)..close]] =
                    (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / 100.0;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return d;
    }

    /// <summary>Busy CPU seconds of the whole machine so far (user, nice, system, irq, softirq, steal), 0 where unknown.</summary>
    private static double MachineBusy()
    {
        try
        {
            var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(f[i], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return 0; }
    }
}
