using System.Globalization;

namespace Loom.Bench;

/// <summary>Options shared by the modes: --dim NAME=SIZE, --shape INPUT=D,D,..., --runs N, --threads T, --fuse, --only loom|ort, --cpu.</summary>
internal sealed class BenchOptions
{
    public Dictionary<string, long> Dims { get; } = new();
    public Dictionary<string, int[]> Shapes { get; } = new();
    public int Runs { get; private set; } = 20;
    public int Threads { get; private set; } = Environment.ProcessorCount;
    public bool Fuse { get; private set; }

    /// <summary>--fold-bytes N: the session's MaxFoldedTensorBytes (to compare folding policies).</summary>
    public long? FoldBytes { get; private set; }

    /// <summary>--only loom|ort: run one runtime (for profilers such as perf stat, which count one process's cycles).</summary>
    public string? Only { get; private set; }

    /// <summary>--cpu: time runs by this thread's CPU time instead of the wall clock (with --threads 1 only).</summary>
    public bool Cpu { get; private set; }
    public List<string> Positional { get; } = new();

    public static BenchOptions Parse(IReadOnlyList<string> args, int defaultRuns = 20)
    {
        var o = new BenchOptions { Runs = defaultRuns };
        for (int i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--dim":
                    var kv = Next().Split('=');
                    o.Dims[kv[0]] = long.Parse(kv[1], CultureInfo.InvariantCulture);
                    break;
                case "--shape":
                    var sv = Next().Split('=');
                    o.Shapes[sv[0]] = sv[1].Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--runs": o.Runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": o.Threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--fuse": o.Fuse = true; break;
                case "--fold-bytes": o.FoldBytes = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--only": o.Only = Next(); break;
                case "--cpu": o.Cpu = true; break;
                default: o.Positional.Add(args[i]); break;
            }
        }
        return o;
    }

    /// <summary>Runs <paramref name="run"/> until the JIT has optimized what it calls (<see cref="Loom.Runtime.JitWarmUp"/>).</summary>
    public static void WarmUp(Action run) => Loom.Runtime.JitWarmUp.Run(run);

    /// <summary>Fastest of <paramref name="runs"/> timed calls after warm-up, in milliseconds: the kernel without its neighbours' noise.</summary>
    public static double BestMs(Action run, int runs)
    {
        WarmUp(run);
        double best = double.MaxValue;
        for (int k = 0; k < runs; k++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            run();
            best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return best;
    }

    /// <summary>
    /// Medians of <paramref name="runs"/> timed calls of each action after warming up each, the two taking turns in blocks of
    /// five runs, each block after a 100 ms pause (as <c>models</c> does). Alternating run by run timed Loom's two-thread runs
    /// while ONNX Runtime's pool threads, which keep spinning after its run, still held the second core: a 1024³ MatMul read
    /// 11.66 ms against 6.14 alone, ResNet-50 52 ms against 28 (2026-11-28).
    /// </summary>
    public static (double A, double B) InterleavedMedians(Action a, Action b, int runs, bool cpu = false)
    {
        Func<double> now = cpu ? ThreadCpuClock.NowMs : () => System.Diagnostics.Stopwatch.GetTimestamp() * 1e3 / System.Diagnostics.Stopwatch.Frequency;
        WarmUp(a);
        WarmUp(b);
        var ta = new double[runs];
        var tb = new double[runs];
        const int Block = 5;
        for (int done = 0; done < runs; done += Block)
            foreach (var (run, times) in new[] { (a, ta), (b, tb) })
            {
                Thread.Sleep(100);
                for (int k = done; k < Math.Min(runs, done + Block); k++)
                {
                    double t0 = now();
                    run();
                    times[k] = now() - t0;
                }
            }
        Array.Sort(ta);
        Array.Sort(tb);
        return (ta[runs / 2], tb[runs / 2]);
    }

    /// <summary>
    /// The median; of an even count the mean of the two middle values (with two rounds, the upper one alone was the slower
    /// round of every configuration).
    /// </summary>
    public static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Median of <paramref name="runs"/> timed calls after warm-up, in milliseconds.</summary>
    public static double MedianMs(Action run, int runs, bool cpu = false)
    {
        Func<double> now = cpu ? ThreadCpuClock.NowMs : () => System.Diagnostics.Stopwatch.GetTimestamp() * 1e3 / System.Diagnostics.Stopwatch.Frequency;
        WarmUp(run);
        var times = new double[runs];
        for (int k = 0; k < runs; k++)
        {
            double t0 = now();
            run();
            times[k] = now() - t0;
        }
        Array.Sort(times);
        return times[runs / 2];
    }
}
