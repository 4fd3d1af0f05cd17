using System.Diagnostics;
using System.Globalization;
using Loom.Streams.Execution;
using Loom.Streams.Scheduling;
using Loom.Streams.Syntax;

namespace Loom.Bench;

/// <summary>
/// StreamIt programs: outputs/s (items reaching the sink, printing off) at 1 core and at all cores, the
/// speedup, the partition's load balance and the share of stateless work, beside the MIT StreamIt compiler's
/// own one-core code for the program, built and timed in the same run by ../shared/streamit/mit-rival.sh.
/// Loom's time covers init and the steady states (not parsing and compiling, which is reported apart);
/// the rival's covers its whole process, as the README says, so it is given enough iterations to run ~1 s.
/// </summary>
internal static class StreamBench
{
    public static int Run(string[] args)
    {
        string dir = Path.Combine(SharedFolder.Root, "streamit");
        if (!Directory.Exists(dir)) { Console.Error.WriteLine($"no StreamIt programs at {dir} (set LOOM_SHARED)"); return 2; }
        int cores = Environment.ProcessorCount;
        double seconds = 1.0;
        string[] only = [];
        bool cpu = false, rivals = true, runs = false;
        int rounds = 1;
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--cpu": cpu = ThreadCpuClock.Available; break;
                case "--cores" when i + 1 < args.Length: cores = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seconds" when i + 1 < args.Length: seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--only" when i + 1 < args.Length: only = args[++i].Split(','); break;
                case "--no-rival": rivals = false; break;
                case "--runs": runs = true; break;
                case "--rounds" when i + 1 < args.Length: rounds = Math.Max(1, int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        Console.WriteLine($"# {Environment.MachineName}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; outputs/s with printing off{(cpu ? "; 1 core and the rival by CPU time (thread / child process), all cores by wall time" : "")}; load average {LoadAverage()}");
        Console.WriteLine($"{"program",-16} {"compile s",9} {"loom 1c",11} {$"loom {cores}c",11} {"speedup",7} {"balance",7} {"stateless",9} {"fissed",6} {"mit 1c",11} {"1c/mit",7} {$"{cores}c/mit",7}");
        foreach (var progDir in Directory.GetDirectories(dir).OrderBy(d => d, StringComparer.Ordinal))
        {
            var name = Path.GetFileName(progDir);
            if (only.Length > 0 && !only.Contains(name)) continue;
            var files = Directory.GetFiles(progDir, "*.str").OrderBy(f => Path.GetFileName(f) is "FloatSeqSource.str" or "FloatPrinter.str" ? 1 : 0)
                .ThenBy(f => f, StringComparer.Ordinal).Select(SourceFile.Read).ToList();
            try
            {
                var sw = Stopwatch.StartNew();
                var probe = StreamProgram.Compile(files, new Printer(null));
                double compile = sw.Elapsed.TotalSeconds;
                long perIter = probe.Schedule.OutputsPerSteadyState();
                var (fissed, plan) = probe.PrepareParallel(cores);
                var work = plan.Work;
                // The balance of the partition a run uses (the fused pipeline cuts its own way).
                if (cores > 1) fissed.SetUpParallel(cores, plan);
                var used = fissed.LastPartition ?? plan;
                double stateless = fissed.Flat.Actors.Where(a => a.Filter is { IsStateful: false } || a.Kind != ActorKind.Filter).Sum(a => work[a.Index]) / work.Sum();
                var oneRun = new Timed(files, 1, null, perIter, null, cpu, runs);
                var manyRun = new Timed(files, cores, plan, perIter, fissed.Fissions, false, runs);
                long oneIters = oneRun.Calibrate(seconds, out double one);
                long manyIters = 0;
                double many = cores == 1 ? one : 0;
                if (cores > 1) manyIters = manyRun.Calibrate(seconds, out many);
                if (rounds > 1)
                {
                    // Alternating runs of the calibrated lengths, each on a fresh instance: the medians. (Not the calibrating
                    // runs: the first of a process runs while the runtime still compiles its methods at tier 1.)
                    var ones = new List<double>();
                    var manys = new List<double>();
                    for (int r = 0; r < rounds; r++)
                    {
                        ones.Add(oneRun.Rate(oneIters));
                        if (cores > 1) manys.Add(manyRun.Rate(manyIters));
                    }
                    if (cores > 1)
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {rounds} rounds, {cores}c/1c per round {string.Join(' ', ones.Zip(manys, (a, b) => (b / a).ToString("F2", CultureInfo.InvariantCulture)))}"));
                    one = Median(ones);
                    many = cores == 1 ? one : Median(manys);
                }
                double? rival = !rivals ? null : cpu ? CpuRival(dir, name, one / Math.Max(perIter, 1), seconds) : Rival(dir, name, one / Math.Max(perIter, 1), seconds);
                // The rival's rate counts every line its steady state prints; Loom's counts the items reaching the
                // sink. They differ where filters print inside the graph (BeamFormer: 4 Detectors' lines + 4 sink
                // items = 8, against Loom's 4, for the same 48 64-tap and 4 170-tap FIR firings), so compare the
                // same thing: the rival's steady states per second times Loom's outputs per steady state.
                if (rival is not null && StreamRival.LinesPerIteration(name) is { } lines) rival = rival.Value / lines * perIter;
                string R(double? v) => v is null ? "-" : v.Value.ToString("0.00e+00", CultureInfo.InvariantCulture);
                string X(double? v) => v is null ? "-" : v.Value.ToString("F2", CultureInfo.InvariantCulture);
                Console.WriteLine($"{name,-16} {compile,9:F2} {R(one),11} {R(many),11} {X(many / one),7} {X(used.Imbalance()),7} {stateless,8:P0} {fissed.Fissions.Count,6} {R(rival),11} {X(one / rival),7} {X(many / rival),7}");
            }
            catch (LoomException e) { Console.WriteLine($"{name,-16} error: {e.Message}"); }
        }
        return 0;
    }

    private static double Median(List<double> v) => BenchOptions.Median(v);

    /// <summary>Timed runs of fresh instances of one program at one core count.</summary>
    private sealed class Timed(List<SourceFile> files, int cores, Partition? plan, long perIter, IReadOnlyDictionary<string, int>? fissions, bool cpu, bool runs)
    {
        /// <summary>Steady states for a run of about <paramref name="seconds"/>, found by runs that grow until one lasts half of it; that run's rate.</summary>
        public long Calibrate(double seconds, out double rate)
        {
            long iters = 16;
            while (true)
            {
                double t = Seconds(iters);
                if (t >= seconds * 0.5) { rate = iters * perIter / t; return iters; }
                iters = t < 0.01 ? iters * 16 : (long)(iters * seconds / t) + 1;
            }
        }

        /// <summary>Outputs/s of a fresh instance run for <paramref name="iters"/> steady states.</summary>
        public double Rate(long iters) => iters * perIter / Seconds(iters);

        private double Seconds(long iters)
        {
            Func<double> now = cpu && cores == 1 ? () => ThreadCpuClock.NowMs() / 1e3 : () => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
            var p = StreamProgram.Compile(files, new Printer(null)).WithFission(fissions ?? new Dictionary<string, int>());
            if (cores > 1) p.SetUpParallel(cores, plan!);
            else p.PrepareSequential();
            SettleJit();
            double check = runs ? ClockCheck() : 0;
            double process0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            long jit0 = System.Runtime.JitInfo.GetCompiledMethodCount();
            var jitTime0 = System.Runtime.JitInfo.GetCompilationTime();
            long wall0 = Stopwatch.GetTimestamp();
            double t0 = now();
            if (cores == 1) p.RunSequential(iters);
            else p.RunParallel(cores, iters);
            double t = now() - t0;
            if (runs)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  run: {cores} core(s), {iters} steady states, clock {t:F3} s, wall {Stopwatch.GetElapsedTime(wall0).TotalSeconds:F3} s, " +
                    $"process CPU {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - process0:F3} s, GCs {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, " +
                    $"JIT {System.Runtime.JitInfo.GetCompiledMethodCount() - jit0} methods {(System.Runtime.JitInfo.GetCompilationTime() - jitTime0).TotalMilliseconds:F1} ms, check {check:F2} ns (before), {ClockCheck():F2} ns (after)"));
            return t;
        }
    }

    /// <summary>
    /// Waits (up to 3 s) until tiered compilation has stopped compiling. Each timed run follows the compilation of a fresh
    /// program (and, at several cores, its twins), which calls the StreamIt compiler's and System.Linq.Expressions'
    /// methods often enough to be recompiled at tier 1 by the runtime's background thread, 100 ms after the calls
    /// stop: that is, during the run. At one core the thread CPU clock does not count it; at all cores it took one
    /// core from the wall-clock run: AutoCor's 2-core run of 1.3 s lost 0.47 s of a core to the ".NET Tiered
    /// Compilation" thread (its time at 2 cores: 1.04-1.42x one core; 1.90-1.94x with DOTNET_TieredCompilation=0;
    /// 2026-11-27 04:15, machine otherwise idle). A program compiled once (`loom stream`) saw 0.02 s of it.
    /// </summary>
    private static void SettleJit()
    {
        long count = System.Runtime.JitInfo.GetCompiledMethodCount();
        for (int i = 0; i < 20; i++)
        {
            Thread.Sleep(150);
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now == count) return;
            count = now;
        }
    }

    /// <summary>
    /// Thread CPU ns per step of a chain of dependent float multiply-adds (the JIT keeps x in a stack slot: about 15
    /// cycles a step, 4.1 ns on the 3.65 GHz machine when quiet): the same work before and after a timed run, so that a run on a core that was slow at the time (the VM's cores are shared
    /// with the host) shows as a higher check beside it, apart from anything the program did.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double ClockCheck()
    {
        const int steps = 4_000_000;
        float x = 1;
        double t0 = ThreadCpuClock.NowMs();
        for (int i = 0; i < steps; i++) x = x * 0.999999f + 1e-6f;
        double ms = ThreadCpuClock.NowMs() - t0;
        _checkSink = x; // (keeps the chain: a dead x was compiled away)
        return ms * 1e6 / steps;
    }

    private static float _checkSink;

    /// <summary>The rival timed by its CPU time (<see cref="StreamRival"/>), run for about <paramref name="seconds"/> of it; null if it has none.</summary>
    private static double? CpuRival(string dir, string name, double loomIterPerSec, double seconds)
    {
        using var r = StreamRival.Build(dir, name);
        if (r is null) return null;
        // The rival's main.c counts steady states in a C int: more than int.MaxValue wrapped negative and it stopped at
        // once (SimpleTwoStage at Loom's 6e8 outputs/s: a "rival" of 5e14/s). A run that cannot reach the time is kept.
        long iters = Math.Min(int.MaxValue, Math.Max(1000, (long)(loomIterPerSec * seconds * 4)));
        for (int attempt = 0; attempt < 4; attempt++)
        {
            if (r.Run(iters) is not { } m) return null;
            if (m.Seconds >= seconds * 0.5 || iters == int.MaxValue) return m.Rate;
            iters = Math.Min(int.MaxValue, (long)(iters * seconds / Math.Max(m.Seconds, 0.01)) + 1);
        }
        return null;
    }

    private static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    /// <summary>The MIT compiler's one-core code for the program, run for about <paramref name="seconds"/>; null if it has none.</summary>
    private static double? Rival(string dir, string name, double loomIterPerSec, double seconds)
    {
        if (!File.Exists(Path.Combine(dir, name, "mit-c.tgz"))) return null;
        // The rival's iteration count is a C int: past int.MaxValue it wraps and the loop ends at once.
        long iters = Math.Min(int.MaxValue, Math.Max(1000, (long)(loomIterPerSec * seconds * 4)));
        for (int attempt = 0; attempt < 4; attempt++)
        {
            var psi = new ProcessStartInfo("sh", [Path.Combine(dir, "mit-rival.sh"), name, iters.ToString(CultureInfo.InvariantCulture)])
            { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
            using var proc = Process.Start(psi)!;
            string output = proc.StandardOutput.ReadToEnd();
            proc.WaitForExit();
            // "NAME: I steady states x O outputs in S s = R outputs/s"
            var parts = output.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int at = Array.IndexOf(parts, "in");
            if (proc.ExitCode != 0 || at < 0) return null;
            double t = double.Parse(parts[at + 1], CultureInfo.InvariantCulture);
            double rate = double.Parse(parts[at + 4], CultureInfo.InvariantCulture);
            if (t >= seconds * 0.5 || iters == int.MaxValue) return rate;
            iters = Math.Min(int.MaxValue, (long)(iters * seconds / Math.Max(t, 0.01)) + 1);
        }
        return null;
    }
}
