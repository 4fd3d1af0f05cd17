using System.Diagnostics;
using System.Globalization;
using Loom.Conformance;

namespace Loom.Bench;

/// <summary>
/// <c>scaling MODEL [--threads 2] [--blocks 15]</c>: one session (sequential executor, T intra-op threads) timed in
/// blocks of 20 runs, each block's median and the process's CPU over wall time. Reproduces what is still open in
/// docs/performance.md: on this VM a 2-thread DenseNet-121 alternates between ~36 ms and its 1-thread ~62 ms from
/// block to block with both threads busy throughout, while the FMA throughput of both cores checks near 2x.
/// </summary>
internal static class ScalingStability
{
    public static int Run(string[] args)
    {
        var o = BenchOptions.Parse(args);
        int blocks = 15;
        for (int i = 0; i < args.Length - 1; i++) if (args[i] == "--blocks") blocks = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        var spec = ModelSpec.For(o.Positional[0]);
        int threads = Math.Max(2, o.Threads);
        using var session = LoomSession.Load(spec.Path, new LoomSessionOptions { IntraOpThreads = threads, ExecutionMode = ExecutionMode.Sequential });
        var dims = spec.Dims(1);
        var feeds = session.Inputs.ToDictionary(i => i.Name, i => (LoomValue)ConformanceRunner.DeterministicInput(i, s => dims.TryGetValue(s, out var v) ? v : null));
        BenchOptions.WarmUp(() => session.Run(feeds).Dispose());
        var process = Process.GetCurrentProcess();
        for (int b = 0; b < blocks; b++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var times = new double[20];
            for (int r = 0; r < times.Length; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                session.Run(feeds).Dispose();
                times[r] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
            process.Refresh();
            Array.Sort(times);
            double cpuShare = (process.TotalProcessorTime - cpu0).TotalMilliseconds / wall.Elapsed.TotalMilliseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"block {b,2}: median {times[10],8:F2} ms  min {times[0],8:F2} ms  process CPU / wall {cpuShare:F2}"));
        }
        return 0;
    }
}
