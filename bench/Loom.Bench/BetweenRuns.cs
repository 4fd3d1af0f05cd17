using System.Globalization;

namespace Loom.Bench;

/// <summary>
/// Does one runtime's run slow the other's? <c>LOOM_BENCH_BETWEEN=none,ort,flush32,read32,ort:none,ort:loom,none+corun64 Loom.Bench
/// MODEL --threads 1</c>: per item, the median and minimum thread CPU time and minor faults of Loom's runs (of ONNX Runtime's
/// with "ort:") with nothing, the other runtime, or a loop writing/reading N MB between runs; "+corunN" adds a thread writing
/// N MB in a loop meanwhile. All items in one process, after the same warm-up.
/// </summary>
internal static class BetweenRuns
{
    public static int Run(Action loom, Action ort, string spec, int runs)
    {
        BenchOptions.WarmUp(loom);
        BenchOptions.WarmUp(ort);
        foreach (var item in spec.Split(','))
        {
            // "ort:loom" times ONNX Runtime with Loom between; a bare mode times Loom.
            // "+corunMB" appended: a thread on the other core writes MB in a loop meanwhile (a neighbour sharing the last-level cache).
            var plain = item.Split('+')[0];
            int corunMb = item.Contains('+') ? int.Parse(item.Split('+')[1][5..], CultureInfo.InvariantCulture) : 0;
            using var stop = new CancellationTokenSource();
            var corun = corunMb == 0 ? null : new Thread(() => { var write = Flush(corunMb); while (!stop.IsCancellationRequested) write(); }) { IsBackground = true };
            corun?.Start();
            var (measuredName, mode) = plain.Contains(':') ? (plain.Split(':')[0], plain.Split(':')[1]) : ("loom", plain);
            var measured = measuredName == "ort" ? ort : loom;
            Action between = mode switch
            {
                "none" => () => { },
                "ort" => ort,
                "loom" => loom,
                _ when mode.StartsWith("flush", StringComparison.Ordinal) => Flush(int.Parse(mode[5..], CultureInfo.InvariantCulture)),
                _ when mode.StartsWith("read", StringComparison.Ordinal) => Read(int.Parse(mode[4..], CultureInfo.InvariantCulture)),
                _ => throw new ArgumentException(mode),
            };
            var t = new double[runs];
            var f = new double[runs];
            var v = new double[runs];
            var nv = new double[runs];
            for (int k = 0; k < runs; k++)
            {
                between();
                long f0 = MinorFaults();
                var (v0, nv0) = ContextSwitches();
                double t0 = ThreadCpuClock.NowMs();
                measured();
                t[k] = ThreadCpuClock.NowMs() - t0;
                f[k] = MinorFaults() - f0;
                var (v1, nv1) = ContextSwitches();
                (v[k], nv[k]) = (v1 - v0, nv1 - nv0);
            }
            stop.Cancel();
            corun?.Join();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{measuredName,-4} between {mode,-8} corun {corunMb,3} MB median {BenchOptions.Median(t):F2} ms  min {t.Min():F2}  minor faults/run median {BenchOptions.Median(f):F0}  context switches/run mean {v.Average():F1} voluntary, {nv.Average():F1} not  load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        }
        return 0;
    }

    private static Action Flush(int mb)
    {
        var buf = new byte[mb << 20];
        return () => { for (int i = 0; i < buf.Length; i += 64) buf[i]++; };
    }

    private static Action Read(int mb)
    {
        var buf = new long[(mb << 20) / 8];
        long sink = 0;
        return () => { for (int i = 0; i < buf.Length; i += 8) sink += buf[i]; GC.KeepAlive(sink); };
    }

    /// <summary>This thread's voluntary and involuntary context switches so far (/proc/thread-self/status).</summary>
    private static (long Voluntary, long Involuntary) ContextSwitches()
    {
        long vol = 0, inv = 0;
        foreach (var line in File.ReadLines("/proc/thread-self/status"))
            if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)) vol = long.Parse(line[24..].Trim(), CultureInfo.InvariantCulture);
            else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal)) inv = long.Parse(line[27..].Trim(), CultureInfo.InvariantCulture);
        return (vol, inv);
    }

    /// <summary>Minor faults of this thread (field 10 of /proc/thread-self/stat).</summary>
    private static long MinorFaults()
    {
        var s = File.ReadAllText("/proc/thread-self/stat");
        var rest = s[(s.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(rest[7], CultureInfo.InvariantCulture);
    }
}
